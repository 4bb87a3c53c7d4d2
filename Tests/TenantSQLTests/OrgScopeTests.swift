import Foundation
import TenantKitPostgres
@testable import TenantSQL
import TenantKitTesting
import Testing

/// Scopes against a real database with two organizations holding overlapping data, as a role
/// that cannot bypass row-level security.
@Suite struct OrgScopeTests {
    struct ProjectRow: Decodable, Equatable { let orgID: UUID; let name: String }

    @Test func eachOrgSeesOnlyItsRowsAndThePublicCatalog() async throws {
        try await withSeededDatabase { _, pool in
            for (org, names, items) in [
                (orgA, ["alpha", "beta"], ["Private A", "Public one", "Public two"]),
                (orgB, ["alpha", "beta", "gamma"], ["B shadow", "Public one", "Public two"]),
            ] {
                let scope = OrgScope(orgID: org, actor: .user(userA), context: PlainSettingContext(), on: pool)
                let p = Projects.table, t = Tasks.as("t"), i = Items.table
                let projects = try await scope.fetchAll(
                    Select.from(p).columns(p.orgID, p.name).orderBy(p.name), as: ProjectRow.self)
                #expect(projects.map(\.name) == names)
                #expect(projects.allSatisfy { $0.orgID == org })

                let joined = try await scope.fetchAll(
                    Select.from(t).columns(t.orgID).join(p, on: p.id == t.projectID), as: UUID.self)
                #expect(joined.count == 3 && joined.allSatisfy { $0 == org })

                let catalog = try await scope.fetchAll(Select.from(i).columns(i.name).orderBy(i.name), as: String.self)
                #expect(catalog == items)

                // Raw SQL in a scope runs under RLS with the same context.
                let raw = try await scope.fetchAll("SELECT DISTINCT org_id FROM tasks", as: UUID.self)
                #expect(raw == [org])
                let orgNames = try await scope.fetchAll(Select.from(Orgs.table).columns(Orgs.table.name), as: String.self)
                #expect(orgNames == [org == orgA ? "Org A" : "Org B"])
            }
            // Without a scope, RLS shows the app role nothing.
            #expect(try await pool.fetchOne("SELECT count(*) FROM projects", as: Int.self) == 0)
        }
    }

    /// Pages of the catalog in shapes a review found failing once the page split became automatic:
    /// ordered by the organization column, a page nested in another's filter, a label that an
    /// ordering column's name repeats, and a lock (refused by name).
    @Test func catalogPagesOfEveryShapeReturnTheVisibleRows() async throws {
        try await withSeededDatabase { _, pool in
            let scope = OrgScope(orgID: orgA, actor: .user(userA), context: PlainSettingContext(), on: pool)
            let i = Items.table, j = Items.as("j")
            struct Row: Decodable, Equatable { let orgID: UUID?; let name: String }
            // The org's own items first (NULLs sort last).
            let ownFirst = try await scope.fetchAll(Select.from(i).columns(i.orgID, i.name).orderBy(i.orgID.asc, i.name.asc).limit(3), as: Row.self)
            #expect(ownFirst == [Row(orgID: orgA, name: "Private A"), Row(orgID: nil, name: "Public one"), Row(orgID: nil, name: "Public two")])
            // A page inside the filter of the public half of another page: both read org_id as NULL there.
            let first = Select.from(j).columns(j.name).where(j.orgID.isNull).orderBy(j.name).limit(1).scalar(as: String.self)
            let nested = Select.from(i).columns(i.name).where(i.name == first || i.orgID.isNotNull).orderBy(i.name).limit(5)
            #expect(try await scope.fetchAll(nested, as: String.self) == ["Private A", "Public one"])
            // A label repeating the ordering column's name: read through the union, not merged by name.
            let labelled = Select.from(i).columns(i.name.as("slug"), i.slug).orderBy(i.slug).limit(2)
            let names = try await scope.query(labelled).map { try $0.decode(String.self, at: 0) }
            #expect(names == ["Private A", "Public one"])  // by slug: private-a, public-one
            #expect(try scope.render(labelled).sql.hasPrefix(#"SELECT "items"."name" AS "slug", "items"."slug" FROM (SELECT"#))
            await #expect(throws: TenantSQLError(.unsupportedShape, "a read of items cannot lock rows: its public rows are read through a UNION")) {
                try await scope.fetchAll(Select.from(i).columns(i.name).orderBy(i.name).limit(1).locking(.forUpdate), as: String.self)
            }
        }
    }

    @Test func writesStayInTheScopesOrg() async throws {
        try await withSeededDatabase { db, pool in
            let scope = OrgScope(orgID: orgA, actor: .user(userA), context: PlainSettingContext(), on: pool)
            let p = Projects.table, i = Items.table
            let changed = try await scope.execute(Update.table(p).set(p.score.set(p.score + 1)).where(p.name == "alpha"))
            #expect(changed == 1)
            let removed = try await scope.execute(Delete.from(i).where(i.slug.like("public%")))
            #expect(removed == 0)  // public rows and B's shadow are not A's to delete
            let id = try await scope.fetchOne(
                Insert.into(p).values(p.name.set("delta")).onConflictDoNothing(p.name).returning(p.orgID), as: UUID.self)
            #expect(id == orgA)
            let again = try await scope.execute(Insert.into(p).values(p.name.set("delta")).onConflictDoNothing(p.name))
            #expect(again == 0)

            let admin = try await db.connect()
            let scores = try await admin.fetchAll("SELECT score FROM projects WHERE name = 'alpha' ORDER BY score", as: Int64.self)
            #expect(scores == [11, 30])
            #expect(try await admin.fetchOne("SELECT (SELECT count(*) FROM items) + (SELECT count(*) FROM public_items)", as: Int.self) == 4)
            await admin.close()
        }
    }

    @Test func errorsCountOnlyTheCallersStatements() async throws {
        try await withSeededDatabase { _, pool in
            let scope = OrgScope(orgID: orgA, actor: .user(userA), context: PlainSettingContext(), on: pool)
            let single = await captureError(PostgresError.self) { try await scope.query("SELECT 1/0") }
            #expect(single?.code == SQLState("22012"))
            #expect(single?.statementIndex == nil)  // the context statement in front is not the caller's
            let second = await captureError(PostgresError.self) { try await scope.pipeline(["SELECT 1", "SELECT 1/0"] as [PostgresQuery]) }
            #expect(second?.statementIndex == 1)
        }
    }

    @Test func foreignOrgInsertIsRejectedBeforeSending() async throws {
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            let scope = OrgScope(orgID: orgA, actor: .user(userA), context: PlainSettingContext(), on: connection)
            let p = Projects.table
            let before = connection.roundTrips
            let error = await captureError(TenantSQLError.self) {
                try await scope.execute(Insert.into(p).values(p.orgID.set(orgB), p.name.set("x")))
            }
            #expect(error?.kind == .foreignOrganization)
            #expect(connection.roundTrips == before)
            await connection.close()
        }
    }

    @Test func aScopedReadIsOneRoundTrip() async throws {
        try await withSeededDatabase { db, _ in
            let connection = try await db.connect(user: appRole)
            let scope = OrgScope(orgID: orgA, actor: .user(userA), context: PlainSettingContext(), on: connection)
            let p = Projects.table
            let read = Select.from(p).columns(p.name).where(p.score > 0)
            for _ in 0..<3 {
                let before = connection.roundTrips
                let names = try await scope.fetchAll(read, as: String.self)
                #expect(names.count == 2)
                #expect(connection.roundTrips - before == 1)
            }
            // The prepared statement cache hits across orgs: same text, no new prepare.
            let prepared = connection.statementsPrepared
            _ = try await OrgScope(orgID: orgB, actor: .user(userB), context: PlainSettingContext(), on: connection).fetchAll(read, as: String.self)
            #expect(connection.statementsPrepared == prepared)

            // A transaction: BEGIN and the context ride with the first statement, then COMMIT.
            let before = connection.roundTrips
            try await scope.transaction { tx in
                _ = try await tx.fetchAll(read, as: String.self)
                try await tx.execute(Update.table(p).set(p.score.set(1)).where(p.name == "beta"))
            }
            #expect(connection.roundTrips - before == 3)
            await connection.close()
        }
    }

    @Test func contextIsVisibleInsideAndGoneAfterwards() async throws {
        try await withSeededDatabase(maxConnections: 1) { _, pool in
            let scope = OrgScope(orgID: orgA, actor: .apiKey(userB, presentedHash: []), context: PlainSettingContext(), on: pool)
            let inside = try await scope.fetchOne(
                "SELECT current_setting('tenantkit.org_id') || '/' || current_setting('tenantkit.user_id') || '/' || current_setting('tenantkit.api_key_id')",
                as: String.self)
            #expect(inside == "\(orgA.uuidString.lowercased())//\(userB.uuidString.lowercased())")
            try await expectNoContext(on: pool)

            let inTransaction = try await scope.transaction { tx in
                try await tx.fetchOne("SELECT current_setting('tenantkit.org_id')", as: String.self)
            }
            #expect(inTransaction == orgA.uuidString.lowercased())
            try await expectNoContext(on: pool)
        }
    }

    @Test func contextIsGoneAfterAnError() async throws {
        try await withSeededDatabase(maxConnections: 1) { _, pool in
            let scope = OrgScope(orgID: orgA, actor: .user(userA), context: PlainSettingContext(), on: pool)
            let pid = try await pool.fetchOne("SELECT pg_backend_pid()", as: Int32.self)
            _ = await captureError(PostgresError.self) { try await scope.query("SELECT 1 / 0") }
            try await expectNoContext(on: pool, backend: pid)

            let p = Projects.table
            _ = await captureError(PostgresError.self) {
                try await scope.transaction { tx in
                    try await tx.execute(Update.table(p).set(p.score.set(99)))
                    try await tx.execute("SELECT 1 / 0")
                }
            }
            try await expectNoContext(on: pool, backend: pid)
            let scores = try await scope.fetchAll(Select.from(p).columns(p.score).orderBy(p.score), as: Int64.self)
            #expect(scores == [10, 20])  // the failed transaction's update rolled back
        }
    }

    @Test(arguments: [false, true])
    func contextIsGoneAfterCancellation(inTransaction: Bool) async throws {
        try await withSeededDatabase { db, _ in
            // One connection as the host, so "afterwards" is the very same connection.
            let connection = try await db.connect(user: appRole)
            let scope = OrgScope(orgID: orgA, actor: .user(userA), context: PlainSettingContext(), on: connection)
            let observer = try await db.connect()
            let work = Task {
                if inTransaction {
                    try await scope.transaction { tx in try await tx.execute("SELECT pg_sleep(60) /* tenantsql-cancel */") }
                } else {
                    try await scope.execute("SELECT pg_sleep(60) /* tenantsql-cancel */")
                }
            }
            // Wait until the server runs it (no timing assumption: poll the server's own view).
            while try await observer.fetchOne(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%tenantsql-cancel%' AND pid <> pg_backend_pid()",
                as: Int.self) == 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            work.cancel()
            let result = await work.result
            #expect(throws: CancellationError.self) { try result.get() }
            let left = try await connection.fetchOne(
                "SELECT coalesce(current_setting('tenantkit.org_id', true), '') || '|' || coalesce(current_setting('tenantkit.user_id', true), '')",
                as: String.self)
            #expect(left == "|")
            await observer.close()
            await connection.close()
        }
    }

    @Test func unscopedAccessWritesAnAuditRow() async throws {
        try await withSeededDatabase { db, _ in
            let owner = db.makePool()  // the superuser stands in for an operator role that bypasses RLS
            let access = try UnscopedAccess(
                unsafelyBypassingOrgScopeFor: "count every org's projects (test)", auditedIn: orgA, actor: .user(userA), context: PlainSettingContext(), on: owner)
            let p = Projects.table
            let all = try await access.fetchAll(Select.from(p).columns(p.name).where(p.name == "alpha"), as: String.self)
            #expect(all == ["alpha", "alpha"])
            _ = try await access.query("SELECT 1")

            struct AuditRow: Decodable { let orgID: UUID; let actorUserID: UUID?; let action: String; let target: String?; let details: [String: String] }
            let rows = try await owner.fetchAll("SELECT org_id, actor_user_id, action, target, details FROM audit_log ORDER BY seq", as: AuditRow.self)
            #expect(rows.count == 2)
            #expect(rows.allSatisfy { $0.orgID == orgA && $0.actorUserID == userA && $0.action == "tenantkit.unscoped_access" })
            #expect(rows.first?.target == "projects")
            #expect(rows.first?.details["reason"] == "count every org's projects (test)")
            #expect(rows.first?.details["sql"] == #"SELECT "projects"."name" FROM "projects" WHERE "projects"."name" = $1"#)
            #expect(rows.last?.target == "sql")
            try await expectNoContext(on: owner)
            await owner.close()
        }
    }
}

/// Checks that no tenant setting is left on the pool's connection (optionally: that it is the same backend).
func expectNoContext(on pool: PostgresPool, backend: Int32? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    struct Left: Decodable { let pid: Int32; let org: String; let user: String; let key: String }
    let left = try await pool.fetchOne("""
        SELECT pg_backend_pid() AS pid,
               coalesce(current_setting('tenantkit.org_id', true), '') AS org,
               coalesce(current_setting('tenantkit.user_id', true), '') AS user,
               coalesce(current_setting('tenantkit.api_key_id', true), '') AS key
        """, as: Left.self)
    #expect(left.org == "" && left.user == "" && left.key == "", sourceLocation: sourceLocation)
    if let backend { #expect(left.pid == backend, "the connection was replaced, so the check proves nothing", sourceLocation: sourceLocation) }
}
