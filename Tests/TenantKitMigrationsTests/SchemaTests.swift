import Foundation
import TenantKitMigrations
import TenantKitPostgres
import Testing
import TenantKit
import TenantKitTesting

/// Two organizations with a row in every tenant table, written as the superuser (which bypasses RLS).
struct TwoOrgs {
    let orgA: UUID
    let orgB: UUID
    let userA: UUID
    let userB: UUID

    /// Every table with an org_id column, by name.
    static let tenantTables = [
        "api_keys", "audit_chain_heads", "audit_log", "catalog_items", "ecu_accounts", "ecu_ledger",
        "email_domain_claims", "invitations", "memberships", "org_email_domains", "runs",
    ]

    /// Tenant tables only SECURITY DEFINER code touches: the app role has no privileges on them.
    static let definerOnlyTables = ["audit_chain_heads", "email_domain_claims"]
    static var appTables: [String] { tenantTables.filter { !definerOnlyTables.contains($0) } }

    static func seed(_ db: TestDatabase) async throws -> TwoOrgs {
        try await withConnection(db.configuration) { admin async throws in
            let userA = UUID(), userB = UUID()
            try await admin.execute("INSERT INTO users (id, email, email_verified) VALUES (\(userA), 'alice@a.test', true), (\(userB), 'bob@b.test', true)")
            let orgA = try await admin.fetchOne("SELECT tenantkit.create_organization_for(\(userA), 'Org A')", as: UUID.self)
            let orgB = try await admin.fetchOne("SELECT tenantkit.create_organization_for(\(userB), 'Org B')", as: UUID.self)
            try await admin.execute("INSERT INTO public_catalog_items (kind, slug, name) VALUES ('model', 'public-model', 'Public')")
            for (org, user, tag) in [(orgA, userA, "a"), (orgB, userB, "b")] {
                try await admin.execute("INSERT INTO invitations (org_id, email, token_hash, invited_by) VALUES (\(org), \("new-\(tag)@x.test"), sha256(convert_to(\("invite-\(tag)"), 'UTF8')), \(user))")
                try await admin.execute("INSERT INTO org_email_domains (org_id, domain) VALUES (\(org), \("\(tag).test"))")
                try await admin.execute("INSERT INTO email_domain_claims (domain, org_id) VALUES (\("claimed-\(tag).test"), \(org))")
                let item = try await admin.fetchOne("INSERT INTO catalog_items (org_id, kind, slug, name) VALUES (\(org), 'model', \("private-\(tag)"), 'Private') RETURNING id", as: UUID.self)
                let key = try await admin.fetchOne("INSERT INTO api_keys (org_id, name, prefix, key_hash, created_by) VALUES (\(org), 'ci', \("tk_\(tag)"), sha256(convert_to(\("key-\(tag)"), 'UTF8')), \(user)) RETURNING id", as: UUID.self)
                try await admin.execute("INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key) VALUES (\(org), 100, 'grant', 'seed-grant')")
                // A run exists only with its debit: both in one statement.
                try await admin.execute("""
                    WITH run AS (INSERT INTO runs (org_id, catalog_item_id, user_id, api_key_id, cost) VALUES (\(org), \(item), \(user), \(key), 5) RETURNING id)
                    INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key, run_id) SELECT \(org), -5, 'run', 'seed-run', run.id FROM run
                    """)
                try await admin.execute("INSERT INTO audit_log (org_id, actor_user_id, action, target) VALUES (\(org), \(user), 'seed', 'everything')")
            }
            return TwoOrgs(orgA: orgA, orgB: orgB, userA: userA, userB: userB)
        }
    }
}

/// A transaction as tenantkit_app with the org context set the way TenantKit sets it: a claim
/// signed with the test key for the org's admin (or, with `user`, for that user).
func asApp<T>(
    _ db: TestDatabase, org: UUID?, user: UUID? = nil, _ body: (PostgresTransaction) async throws -> T
) async throws -> T {
    let principal: UUID? = if let user { user } else if let org {
        try await withConnection(db.configuration) { admin async throws in
            try await admin.fetchOne("SELECT user_id FROM memberships WHERE org_id = \(org) AND role = 'admin' LIMIT 1", as: UUID.self)
        }
    } else { nil }
    return try await withConnection(db.configuration.with(user: "tenantkit_app")) { app async throws in
        let prelude = try principal.map { [try TestDatabase.context.statement(orgID: org, actor: .user($0), backendPID: app.backendPID)] } ?? []
        return try await app.withTransaction(prelude: prelude) { try await body($0) }
    }
}

/// The signed context statement for `user` in `org` on `connection` (test key).
func claim(_ org: UUID?, _ user: UUID, on connection: PostgresConnection) throws -> PostgresQuery {
    try TestDatabase.context.statement(orgID: org, actor: .user(user), backendPID: connection.backendPID)
}

@Suite struct RowLevelSecurityTests {
    @Test func tenantTablesAreTheExpectedOnes() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            let tables = try await withConnection(db.configuration) { conn async throws in
                try await conn.fetchAll("""
                    SELECT c.relname::text FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
                    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attname = 'org_id'
                    ORDER BY 1
                    """, as: String.self)
            }
            // A new tenant table must be added to TwoOrgs (seed and list), so the tests below cover it.
            #expect(tables == TwoOrgs.tenantTables)
        }
    }

    @Test func noOrgSetSeesNoTenantRows() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            _ = try await TwoOrgs.seed(db)
            for table in TwoOrgs.definerOnlyTables {
                let error = try await expectPostgresError { try await asApp(db, org: nil) { try await $0.query("SELECT 1 FROM \(identifier: table)") } }
                #expect(error.message == "permission denied for table \(table)")
            }
            try await asApp(db, org: nil) { app async throws in
                for table in TwoOrgs.appTables {
                    let count = try await app.fetchOne("SELECT count(*) FROM \(identifier: table) WHERE org_id IS NOT NULL", as: Int.self)
                    #expect(count == 0, "table \(table)")
                }
                #expect(try await app.fetchOne("SELECT count(*) FROM organizations", as: Int.self) == 0)
                // The public catalog is public.
                #expect(try await app.fetchAll("SELECT slug FROM public_catalog_items", as: String.self) == ["public-model"])
                #expect(try await app.fetchAll("SELECT slug FROM catalog_items", as: String.self) == [])
            }
        }
    }

    @Test func orgAContextSeesOnlyOrgA() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            let orgs = try await TwoOrgs.seed(db)
            try await asApp(db, org: orgs.orgA) { app async throws in
                for table in TwoOrgs.appTables {
                    let ids = try await app.fetchAll("SELECT DISTINCT org_id FROM \(identifier: table) WHERE org_id IS NOT NULL", as: UUID.self)
                    #expect(ids == [orgs.orgA], "table \(table)")
                }
                #expect(try await app.fetchAll("SELECT id FROM organizations", as: UUID.self) == [orgs.orgA])
                #expect(try await app.fetchAll("SELECT slug FROM catalog_items UNION ALL SELECT slug FROM public_catalog_items ORDER BY slug", as: String.self) == ["private-a", "public-model"])
                // Even asking for org B by id finds nothing.
                #expect(try await app.fetchAll("SELECT id FROM runs WHERE org_id = \(orgs.orgB)", as: UUID.self) == [])
                #expect(try await app.fetchOne("SELECT balance FROM ecu_accounts", as: Int.self) == 95)
            }
        }
    }

    @Test func orgAContextCannotInsertIntoOrgB() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            let orgs = try await TwoOrgs.seed(db)
            let b = orgs.orgB
            let inserts: [(String, PostgresQuery)] = [
                ("memberships", "INSERT INTO memberships (org_id, user_id) VALUES (\(b), \(orgs.userA))"),
                ("invitations", "INSERT INTO invitations (org_id, email, token_hash) VALUES (\(b), 'x@x.test', sha256('x'))"),
                ("org_email_domains", "INSERT INTO org_email_domains (org_id, domain) VALUES (\(b), 'sneaky.test')"),
                ("catalog_items", "INSERT INTO catalog_items (org_id, kind, slug, name) VALUES (\(b), 'model', 'sneaky', 'S')"),
                ("api_keys", "INSERT INTO api_keys (org_id, name, prefix, key_hash) VALUES (\(b), 'k', 'tk_x', sha256('k'))"),
                ("runs", "INSERT INTO runs (org_id, catalog_item_id, user_id) SELECT \(b), id, \(orgs.userA) FROM public_catalog_items WHERE slug = 'public-model'"),
                ("ecu_ledger", "INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key) VALUES (\(b), 1000, 'free money', 'x')"),
                ("audit_log", "INSERT INTO audit_log (org_id, action) VALUES (\(b), 'forged')"),
            ]
            for (table, insert) in inserts {
                let error = try await expectPostgresError { try await asApp(db, org: orgs.orgA) { try await $0.execute(insert) } }
                #expect(error.code == .insufficientPrivilege, "table \(table)")
                // People join only through the entry points: the app may not insert memberships at all.
                let expected = table == "memberships" ? "permission denied for table memberships"
                    : "new row violates row-level security policy for table \"\(table)\""
                #expect(error.message == expected, "table \(table)")
            }
            // The public catalog is not the app's to write either: neither its table nor an
            // ownerless row among the private items.
            let error = try await expectPostgresError {
                try await asApp(db, org: orgs.orgA) { try await $0.execute("INSERT INTO public_catalog_items (kind, slug, name) VALUES ('model', 'mine', 'M')") }
            }
            #expect(error.message == "permission denied for table public_catalog_items")
            let ownerless = try await expectPostgresError {
                try await asApp(db, org: orgs.orgA) { try await $0.execute("INSERT INTO catalog_items (org_id, kind, slug, name) VALUES (NULL, 'model', 'mine', 'M')") }
            }
            #expect(ownerless.message == "new row violates row-level security policy for table \"catalog_items\"")
            // And with no org set, nothing can be written at all.
            let none = try await expectPostgresError {
                try await asApp(db, org: nil) { try await $0.execute("INSERT INTO api_keys (org_id, name, prefix, key_hash) VALUES (\(b), 'k', 'tk_x', sha256('k'))") }
            }
            #expect(none.code == .insufficientPrivilege)
        }
    }

    @Test func orgAContextCannotUpdateOrgBRowsOrMoveRowsToOrgB() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            let orgs = try await TwoOrgs.seed(db)
            try await asApp(db, org: orgs.orgA) { app async throws in
                #expect(try await app.execute("UPDATE api_keys SET revoked_at = now() WHERE org_id = \(orgs.orgB)") == 0)
                #expect(try await app.execute("UPDATE catalog_items SET name = 'defaced' WHERE slug IN ('private-b', 'public-model')") == 0)
                #expect(try await app.execute("DELETE FROM memberships WHERE org_id = \(orgs.orgB)") == 0)
                #expect(try await app.execute("UPDATE organizations SET name = 'Mine' WHERE id = \(orgs.orgB)") == 0)
            }
            let moves: [(String, PostgresQuery)] = [
                ("memberships", "UPDATE memberships SET org_id = \(orgs.orgB) WHERE org_id = \(orgs.orgA)"),
                ("invitations", "UPDATE invitations SET org_id = \(orgs.orgB) WHERE org_id = \(orgs.orgA)"),
                ("catalog_items", "UPDATE catalog_items SET org_id = \(orgs.orgB) WHERE org_id = \(orgs.orgA)"),
                ("api_keys", "UPDATE api_keys SET org_id = \(orgs.orgB) WHERE org_id = \(orgs.orgA)"),
                // A public item and no key, so only row-level security stands in the way.
                ("runs", """
                    UPDATE runs SET org_id = \(orgs.orgB), api_key_id = NULL,
                        catalog_item_id = (SELECT id FROM public_catalog_items WHERE slug = 'public-model')
                    WHERE org_id = \(orgs.orgA)
                    """),
            ]
            for (table, move) in moves {
                let error = try await expectPostgresError { try await asApp(db, org: orgs.orgA) { try await $0.execute(move) } }
                #expect(error.code == .insufficientPrivilege, "table \(table)")
                // org_id is not among the columns the app may update, except on the catalog (policy).
                let expected = table == "catalog_items" ? "new row violates row-level security policy for table \"\(table)\""
                    : "permission denied for table \(table)"
                #expect(error.message == expected, "table \(table)")
            }
            try await withConnection(db.configuration) { admin async throws in
                #expect(try await admin.fetchOne("SELECT name FROM api_keys WHERE org_id = \(orgs.orgB)", as: String.self) == "ci")
            }
        }
    }
}

@Suite struct AuditLogTests {
    @Test func appCannotUpdateDeleteOrTruncate() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            let orgs = try await TwoOrgs.seed(db)
            for statement: PostgresQuery in ["UPDATE audit_log SET action = 'edited'", "DELETE FROM audit_log", "TRUNCATE audit_log"] {
                let error = try await expectPostgresError { try await asApp(db, org: orgs.orgA) { try await $0.execute(statement) } }
                #expect(error.code == .insufficientPrivilege)
                #expect(error.message == "permission denied for table audit_log")
            }
        }
    }

    @Test func ownerCannotUpdateDeleteOrTruncateEither() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            _ = try await TwoOrgs.seed(db)
            for (statement, operation): (PostgresQuery, String) in [
                ("UPDATE audit_log SET action = 'edited'", "UPDATE"), ("DELETE FROM audit_log", "DELETE"), ("TRUNCATE audit_log", "TRUNCATE"),
            ] {
                let error = try await expectPostgresError {
                    // The owner never logs in: a member (the superuser here) becomes it.
                    try await withConnection(db.configuration) { owner async throws in
                        try await owner.withTransaction(prelude: ["SET LOCAL ROLE tenantkit_owner"]) {
                            try await $0.execute(statement)
                        }
                    }
                }
                #expect(error.code == SQLState("TK010"))
                #expect(error.message == "audit_log is append-only: \(operation) is not allowed")
            }
            try await withConnection(db.configuration) { admin async throws in
                #expect(try await admin.fetchOne("SELECT count(*) FROM audit_log WHERE action = 'seed'", as: Int.self) == 2)
            }
        }
    }

    @Test func concurrentAppendsKeepOneGaplessChain() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            let orgs = try await TwoOrgs.seed(db)
            let pool = db.makePool(user: "tenantkit_app", maxConnections: 8)
            let (org, user) = (orgs.orgA, orgs.userA)
            try await withThrowingTaskGroup(of: Void.self) { group async throws in
                for i in 0..<40 {
                    group.addTask {
                        _ = try await pool.withConnection { conn async throws in
                            try await conn.withTransaction(prelude: [claim(org, user, on: conn)]) { tx async throws in
                                try await tx.execute("INSERT INTO audit_log (action, target, details) VALUES ('append', \("item-\(i)"), \(JSONB(["i": i])))")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            // A rolled-back append leaves no gap.
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await pool.withConnection { conn async throws in
                    try await conn.withTransaction(prelude: [claim(org, user, on: conn)]) { tx async throws in
                        try await tx.execute("INSERT INTO audit_log (action) VALUES ('rolled back')")
                        throw Abort()
                    }
                }
            }
            _ = try await pool.withConnection { conn async throws in
                try await conn.withTransaction(prelude: [claim(org, user, on: conn)]) { tx async throws in
                    try await tx.execute("INSERT INTO audit_log (action) VALUES ('last')")
                }
            }
            await pool.close()

            try await asApp(db, org: orgs.orgA) { app async throws in
                struct Row: Decodable {
                    let orgId: String; let seq: Int; let micros: String; let actorUserId: String?; let actorApiKeyId: String?
                    let action: String; let target: String?; let details: String; let prevHash: Data; let hash: Data
                }
                let rows = try await app.fetchAll("""
                    SELECT org_id::text AS org_id, seq, ((extract(epoch FROM occurred_at) * 1000000)::numeric(30, 0))::text AS micros,
                           actor_user_id::text AS actor_user_id, actor_api_key_id::text AS actor_api_key_id,
                           action, target, details::text AS details, prev_hash, hash
                    FROM audit_log ORDER BY seq
                    """, as: Row.self)
                // seq 1 is the org's creation, 2 the seed's entry.
                #expect(rows.map(\.seq) == Array(1...43))
                #expect(rows.last?.action == "last")
                // Every entry links to the one before it; the keyed hash itself needs the audit key,
                // which only the database holds (AuditChainTests recompute and tamper with it).
                var previous = Data(repeating: 0, count: 32)
                for row in rows {
                    #expect(row.prevHash == previous, "seq \(row.seq)")
                    previous = row.hash
                }
                #expect(Set(rows.map(\.hash)).count == rows.count)
                #expect(try await app.fetchOne("SELECT tenantkit_audit_verify()", as: Int?.self) == nil)
            }
            try await asApp(db, org: orgs.orgB) { app async throws in
                #expect(try await app.fetchAll("SELECT seq FROM audit_log ORDER BY seq", as: Int.self) == [1, 2])  // org B's chain is its own
            }
        }
    }
}

@Suite struct EntryPointTests {
    @Test func createOrganizationAndListAUsersOrganizations() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            let orgs = try await TwoOrgs.seed(db)
            struct Listed: Decodable, Equatable { let orgId: UUID; let name: String; let role: String }
            try await asApp(db, org: nil, user: orgs.userA) { app async throws in
                let created = try await app.fetchOne("SELECT tenantkit_create_organization('Another Org')", as: UUID.self)
                let listed = try await app.fetchAll("SELECT org_id, name, role FROM tenantkit_user_organizations()", as: Listed.self)
                #expect(listed == [Listed(orgId: created, name: "Another Org", role: "admin"), Listed(orgId: orgs.orgA, name: "Org A", role: "admin")])
                // Still pre-tenant: the caller's context names no organization.
                #expect(try await app.fetchOne("SELECT count(*) FROM memberships", as: Int.self) == 0)
            }
            // The user comes from the verified claim, never from an argument: without one, nothing.
            try await withConnection(db.configuration.with(user: "tenantkit_app")) { app async throws in
                let error = try await expectPostgresError { _ = try await app.query("SELECT tenantkit_create_organization('Nobody')") }
                #expect(error.code == .insufficientPrivilege)
                #expect(error.message == "this call needs a signed-in user")
                let provisioning = try await expectPostgresError {
                    _ = try await app.query("SELECT tenantkit.create_organization_for(\(orgs.userB), 'Planted in B''s switcher')")
                }
                #expect(provisioning.message == "permission denied for function create_organization_for")
            }
            // Each user lists their own organizations only.
            try await asApp(db, org: orgs.orgA) { app async throws in
                #expect(try await app.fetchAll("SELECT org_id FROM tenantkit_user_organizations()", as: UUID.self).contains(orgs.orgB) == false)
            }
            try await asApp(db, org: nil, user: orgs.userB) { app async throws in
                #expect(try await app.fetchAll("SELECT org_id FROM tenantkit_user_organizations()", as: UUID.self) == [orgs.orgB])
            }
        }
    }

    @Test func acceptInvitation() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            let orgs = try await TwoOrgs.seed(db)
            let carol = UUID(), mallory = UUID()
            try await withConnection(db.configuration) { admin async throws in
                try await admin.execute("INSERT INTO users (id, email) VALUES (\(carol), 'Carol@example.test'), (\(mallory), 'mallory@example.test')")
                try await admin.execute("""
                    INSERT INTO invitations (org_id, email, role, token_hash) VALUES
                        (\(orgs.orgA), 'carol@example.test', 'viewer', sha256(convert_to('good-token', 'UTF8'))),
                        (\(orgs.orgA), 'CAROL@example.test', 'member', sha256(convert_to('old-token', 'UTF8')))
                    """)
                try await admin.execute("UPDATE invitations SET created_at = now() - interval '8 days', expires_at = now() - interval '1 day' WHERE token_hash = sha256(convert_to('old-token', 'UTF8'))")
            }
            struct Accepted: Decodable, Equatable { let orgId: UUID; let role: String }
            func accept(_ user: UUID, _ token: String) async throws -> [Accepted] {
                try await asApp(db, org: nil, user: user) { try await $0.fetchAll("SELECT * FROM tenantkit_accept_invitation(\(token))", as: Accepted.self) }
            }
            func failure(_ user: UUID, _ token: String) async throws -> PostgresError {
                try await expectPostgresError { _ = try await accept(user, token) }
            }
            #expect(try await failure(mallory, "good-token").code == SQLState("TK004"))
            #expect(try await failure(carol, "wrong-token").code == SQLState("TK001"))
            #expect(try await failure(carol, "old-token").code == SQLState("TK002"))
            #expect(try await accept(carol, "good-token") == [Accepted(orgId: orgs.orgA, role: "viewer")])
            let reused = try await failure(carol, "good-token")
            #expect(reused.code == SQLState("TK003"))
            #expect(reused.message == "invitation has already been used or was revoked")
            try await asApp(db, org: orgs.orgA) { app async throws in
                #expect(try await app.fetchOne("SELECT role FROM memberships WHERE user_id = \(carol)", as: String.self) == "viewer")
                #expect(try await app.fetchOne("SELECT accepted_by FROM invitations WHERE accepted_at IS NOT NULL", as: UUID.self) == carol)
                // The entry point wrote its own audit entry, as the user who joined.
                #expect(try await app.fetchOne("SELECT actor_user_id FROM audit_log WHERE action = 'member.joined'", as: UUID.self) == carol)
            }
        }
    }

    @Test func joinByVerifiedEmailDomain() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            let orgs = try await TwoOrgs.seed(db)
            let key = TenantContextKey.forTesting
            func verify(_ org: UUID, _ domain: String, as app: PostgresTransaction) async throws {
                let challenge = try await app.fetchOne("SELECT tenantkit_issue_domain_challenge(\(domain))", as: String.self)
                let proof = key.proof(purpose: "domain", subject: "\(org.uuidString.lowercased()):\(domain):\(challenge)")
                _ = try await app.query("SELECT tenantkit_verify_org_domain(\(domain), \(challenge), \(proof))")
            }
            // The org admin registers and verifies the domain, then enables auto-join, all as the app.
            try await asApp(db, org: orgs.orgA) { app async throws in
                try await app.execute("INSERT INTO org_email_domains (domain) VALUES ('acme.test')")
                try await verify(orgs.orgA, "acme.test", as: app)
                try await app.execute("UPDATE org_email_domains SET enabled = true, default_role = 'viewer' WHERE domain = 'acme.test'")
            }
            // Org B cannot take a domain org A verified.
            let taken = try await expectPostgresError {
                try await asApp(db, org: orgs.orgB) { app async throws in
                    try await app.execute("INSERT INTO org_email_domains (domain) VALUES ('acme.test')")
                    try await verify(orgs.orgB, "acme.test", as: app)
                }
            }
            #expect(taken.code == SQLState("TK005"))
            // Without the application's proof (an injection cannot sign one), or with another
            // org's challenge, nothing is verified.
            let unproven = try await expectPostgresError {
                try await asApp(db, org: orgs.orgB) { app async throws in
                    try await app.execute("INSERT INTO org_email_domains (domain) VALUES ('unclaimed.test')")
                    let challenge = try await app.fetchOne("SELECT tenantkit_issue_domain_challenge('unclaimed.test')", as: String.self)
                    _ = try await app.query("SELECT tenantkit_verify_org_domain('unclaimed.test', \(challenge), \(String(repeating: "0", count: 82)))")
                }
            }
            #expect(unproven.code == SQLState("TK006"))

            let dave = UUID(), erin = UUID()
            _ = try await withConnection(db.configuration) { admin async throws in
                try await admin.execute("INSERT INTO users (id, email, email_verified) VALUES (\(dave), 'Dave@acme.test', true), (\(erin), 'erin@acme.test', false)")
            }
            struct Joined: Decodable, Equatable { let orgId: UUID; let role: String }
            func join(_ user: UUID) async throws -> [Joined] {
                try await asApp(db, org: nil, user: user) { try await $0.fetchAll("SELECT * FROM tenantkit_join_by_email_domain()", as: Joined.self) }
            }
            #expect(try await join(dave) == [Joined(orgId: orgs.orgA, role: "viewer")])
            #expect(try await join(dave) == [])  // already a member
            #expect(try await join(erin) == [])  // email not verified
            #expect(try await join(orgs.userB) == [])  // b.test is not verified by anyone
        }
    }

    @Test func lookUpAnAPIKeyOfTheFirstFormat() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            let orgs = try await TwoOrgs.seed(db)
            struct Key: Decodable, Equatable { let orgId: UUID; let apiKeyId: UUID }
            let (hash, id) = try await withConnection(db.configuration) { admin async throws in
                (try await admin.fetchOne("SELECT sha256(convert_to('key-b', 'UTF8'))", as: Data.self),
                 try await admin.fetchOne("SELECT id FROM api_keys WHERE prefix = 'tk_b'", as: UUID.self))
            }
            try await asApp(db, org: nil) { app async throws in
                let keys = try await app.fetchAll("SELECT org_id, api_key_id FROM tenantkit_authenticate_api_key('tk_b', \(hash))", as: Key.self)
                #expect(keys == [Key(orgId: orgs.orgB, apiKeyId: id)])
                // The prefix alone, or another hash, finds nothing; no hash is ever returned.
                #expect(try await app.fetchAll("SELECT org_id FROM tenantkit_authenticate_api_key('tk_b', \(Data(repeating: 7, count: 32)))", as: UUID.self) == [])
                #expect(try await app.fetchAll("SELECT org_id FROM tenantkit_authenticate_api_key('tk_a', \(hash))", as: UUID.self) == [])
            }
            _ = try await withConnection(db.configuration) { admin async throws in
                try await admin.execute("UPDATE api_keys SET revoked_at = now() WHERE key_hash = \(hash)")
            }
            try await asApp(db, org: nil) { app async throws in
                #expect(try await app.fetchAll("SELECT org_id FROM tenantkit_authenticate_api_key('tk_b', \(hash))", as: UUID.self) == [])
            }
        }
    }

    @Test func onlyTheAppRoleMayCallTheEntryPoints() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            let callable = try await withConnection(db.configuration) { conn async throws in
                try await conn.fetchAll("""
                    SELECT p.proname::text FROM pg_proc p
                    WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef
                      AND has_function_privilege('tenantkit_app', p.oid, 'EXECUTE')
                      AND NOT EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0)
                    ORDER BY 1
                    """, as: String.self)
            }
            #expect(callable == [
                "tenantkit_accept_invitation", "tenantkit_audit_checkpoint", "tenantkit_audit_verify", "tenantkit_audit_verify_checkpoint",
                "tenantkit_authenticate_api_key", "tenantkit_change_email",
                "tenantkit_create_organization", "tenantkit_create_user", "tenantkit_issue_domain_challenge",
                "tenantkit_join_by_email_domain", "tenantkit_session_close", "tenantkit_session_open", "tenantkit_session_resume",
                "tenantkit_session_switch", "tenantkit_sweep_sessions", "tenantkit_use_api_key", "tenantkit_user_by_email",
                "tenantkit_user_organizations", "tenantkit_verify_email", "tenantkit_verify_org_domain",
            ])
        }
    }
}
