import Foundation
import TenantKitPostgres
import TenantKit
import TenantKitTesting
import TenantSQL
import Testing

/// The concrete table declarations against the real, migrated schema, as `tenantkit_app`.
@Suite struct ScopedSchemaTests {
    static let orgA = UUID(uuidString: "aaaaaaaa-0000-0000-0000-000000000001")!
    static let orgB = UUID(uuidString: "bbbbbbbb-0000-0000-0000-000000000002")!
    static let userA = UUID(uuidString: "aaaaaaaa-1111-0000-0000-000000000001")!
    static let userB = UUID(uuidString: "bbbbbbbb-1111-0000-0000-000000000002")!

    /// Two organizations with overlapping data in every tenant table (ids match the constants above).
    static let seed = """
        INSERT INTO users (id, email) VALUES
            ('aaaaaaaa-1111-0000-0000-000000000001', 'ann@example.com'),
            ('bbbbbbbb-1111-0000-0000-000000000002', 'bob@example.com');
        INSERT INTO organizations (id, name) VALUES
            ('aaaaaaaa-0000-0000-0000-000000000001', 'Org A'), ('bbbbbbbb-0000-0000-0000-000000000002', 'Org B');
        INSERT INTO memberships (org_id, user_id, role) VALUES
            ('aaaaaaaa-0000-0000-0000-000000000001', 'aaaaaaaa-1111-0000-0000-000000000001', 'admin'),
            ('aaaaaaaa-0000-0000-0000-000000000001', 'bbbbbbbb-1111-0000-0000-000000000002', 'member'),
            ('bbbbbbbb-0000-0000-0000-000000000002', 'bbbbbbbb-1111-0000-0000-000000000002', 'admin');
        INSERT INTO invitations (org_id, email, role, token_hash) VALUES
            ('aaaaaaaa-0000-0000-0000-000000000001', 'new@example.com', 'member', sha256('a'::bytea)),
            ('bbbbbbbb-0000-0000-0000-000000000002', 'new@example.com', 'viewer', sha256('b'::bytea));
        INSERT INTO org_email_domains (org_id, domain) VALUES
            ('aaaaaaaa-0000-0000-0000-000000000001', 'shared.example'),
            ('bbbbbbbb-0000-0000-0000-000000000002', 'shared.example');
        INSERT INTO public_catalog_items (id, kind, slug, name) VALUES
            ('cccccccc-0000-0000-0000-000000000001', 'model', 'public-model', 'Public model');
        INSERT INTO catalog_items (id, org_id, kind, slug, name) VALUES
            ('cccccccc-0000-0000-0000-00000000000a', 'aaaaaaaa-0000-0000-0000-000000000001', 'model', 'mine', 'A private'),
            ('cccccccc-0000-0000-0000-00000000000b', 'bbbbbbbb-0000-0000-0000-000000000002', 'model', 'mine', 'B private');
        INSERT INTO api_keys (org_id, name, prefix, key_hash) VALUES
            ('aaaaaaaa-0000-0000-0000-000000000001', 'ci', 'tk_a', sha256('ka'::bytea)),
            ('bbbbbbbb-0000-0000-0000-000000000002', 'ci', 'tk_b', sha256('kb'::bytea));
        -- Grants first; every run below comes with its debit (in this one transaction), leaving 100 and 500.
        INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key) VALUES
            ('aaaaaaaa-0000-0000-0000-000000000001', 107, 'grant', 'k1'),
            ('bbbbbbbb-0000-0000-0000-000000000002', 516, 'grant', 'k1');
        INSERT INTO runs (org_id, catalog_item_id, user_id, cost, status) VALUES
            ('aaaaaaaa-0000-0000-0000-000000000001', 'cccccccc-0000-0000-0000-000000000001', 'aaaaaaaa-1111-0000-0000-000000000001', 3, 'succeeded'),
            ('aaaaaaaa-0000-0000-0000-000000000001', 'cccccccc-0000-0000-0000-00000000000a', 'aaaaaaaa-1111-0000-0000-000000000001', 4, 'queued'),
            ('bbbbbbbb-0000-0000-0000-000000000002', 'cccccccc-0000-0000-0000-000000000001', 'bbbbbbbb-1111-0000-0000-000000000002', 7, 'succeeded'),
            ('bbbbbbbb-0000-0000-0000-000000000002', 'cccccccc-0000-0000-0000-00000000000b', 'bbbbbbbb-1111-0000-0000-000000000002', 9, 'failed');
        INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key, run_id)
            SELECT org_id, -cost, 'run', 'run-' || id, id FROM runs;
        """

    func withSeededSchema(_ body: (TestDatabase, PostgresPool) async throws -> Void) async throws {
        try await TestDatabase.with(template: .migrated) { db in
            let admin = try await db.connect()
            try await admin.executeScript(unsafeSQL: Self.seed)
            await admin.close()
            let pool = db.makePool(user: "tenantkit_app")
            do {
                try await body(db, pool)
                await pool.close()
            } catch {
                await pool.close()
                throw error
            }
        }
    }

    struct Expected: Sendable {
        let org: UUID
        let user: UUID
        let orgName: String
        let members: Int
        let invitationRole: String
        let catalog: [String]
        let keyPrefix: String
        let runs: [String]
        let balance: Int64
    }

    @Test func everyTableIsScopedToTheActiveOrg() async throws {
        try await withSeededSchema { _, pool in
            let cases = [
                Expected(org: Self.orgA, user: Self.userA, orgName: "Org A", members: 2, invitationRole: "member",
                         catalog: ["A private", "Public model"], keyPrefix: "tk_a", runs: ["A private:queued", "Public model:succeeded"], balance: 100),
                Expected(org: Self.orgB, user: Self.userB, orgName: "Org B", members: 1, invitationRole: "viewer",
                         catalog: ["B private", "Public model"], keyPrefix: "tk_b", runs: ["B private:failed", "Public model:succeeded"], balance: 500),
            ]
            for expected in cases {
                let scope = OrgScope(orgID: expected.org, actor: .user(expected.user), context: TestDatabase.context, on: pool)
                let orgs = OrganizationsTable.table
                #expect(try await scope.fetchAll(Select.from(orgs).columns(orgs.name), as: String.self) == [expected.orgName])

                // Members joined with the global users table.
                let m = MembershipsTable.as("m"), u = UsersTable.as("u")
                let emails = try await scope.fetchAll(
                    Select.from(m).columns(u.email).join(u, on: u.id == m.userID).orderBy(u.email), as: String.self)
                #expect(emails.count == expected.members)

                let inv = InvitationsTable.table
                #expect(try await scope.fetchAll(Select.from(inv).columns(inv.role).where(inv.email == "new@example.com"), as: String.self)
                    == [expected.invitationRole])

                let domains = OrgEmailDomainsTable.table
                #expect(try await scope.fetchAll(Select.from(domains).columns(domains.orgID), as: UUID.self) == [expected.org])

                let items = CatalogItemsTable.table
                #expect(try await scope.fetchAll(Select.from(items).columns(items.name).orderBy(items.name), as: String.self) == expected.catalog)

                let keys = APIKeysTable.table
                #expect(try await scope.fetchAll(Select.from(keys).columns(keys.prefix), as: String.self) == [expected.keyPrefix])

                // Runs with their catalog item: a tenant table joined with the mixed catalog.
                let r = RunsTable.as("r"), c = CatalogItemsTable.as("c")
                struct RunRow: Decodable { let name: String; let status: String }
                let runs = try await scope.fetchAll(
                    Select.from(r).columns(c.name, r.status).join(c, on: c.id == r.catalogItemID).orderBy(c.name), as: RunRow.self)
                #expect(runs.map { "\($0.name):\($0.status)" } == expected.runs)

                let accounts = CreditAccountsTable.table, ledger = CreditLedgerTable.table
                #expect(try await scope.fetchOne(Select.from(accounts).columns(accounts.balance), as: Int64.self) == expected.balance)
                #expect(try await scope.fetchOne(Select.from(ledger).columns(sum(ledger.amount)), as: Decimal?.self) == Decimal(expected.balance))
            }
        }
    }

    @Test func writesThroughTheBuilderLandInTheScopesOrg() async throws {
        try await withSeededSchema { db, pool in
            let scope = OrgScope(orgID: Self.orgA, actor: .user(Self.userA), context: TestDatabase.context, on: pool)
            let runs = RunsTable.table, ledger = CreditLedgerTable.table, audit = AuditLogTable.table
            let publicItem = UUID(uuidString: "cccccccc-0000-0000-0000-000000000001")!
            struct Posted: Decodable { let orgID: UUID; let balanceAfter: Int64 }
            struct NewRun: Decodable { let id: UUID; let userID: UUID? }

            let posted = try await scope.transaction { tx in
                let run = try await tx.fetchOne(
                    Insert.into(runs).values(runs.catalogItemID.set(publicItem), runs.cost.set(10)).returning(runs.id, runs.userID),
                    as: NewRun.self)
                #expect(run.userID == Self.userA)  // defaulted from the scope's actor
                let posted = try await tx.fetchOne(
                    Insert.into(ledger)
                        .values(ledger.amount.set(-10), ledger.reason.set("run"), ledger.idempotencyKey.set("run-1"), ledger.runID.set(run.id))
                        .onConflictDoNothing(ledger.idempotencyKey)
                        .returning(ledger.orgID, ledger.balanceAfter),
                    as: Posted.self)
                try await tx.execute(Insert.into(audit).values(audit.action.set("run.started"), audit.target.set(run.id.uuidString)))
                return posted
            }
            #expect(posted.orgID == Self.orgA && posted.balanceAfter == 90)

            struct AuditRow: Decodable { let orgID: UUID; let seq: Int64; let actorUserID: UUID?; let action: String }
            let rows = try await scope.fetchAll(
                Select.from(audit).columns(audit.orgID, audit.seq, audit.actorUserID, audit.action), as: AuditRow.self)
            #expect(rows.count == 1 && rows[0].seq == 1 && rows[0].actorUserID == Self.userA && rows[0].action == "run.started")

            // B saw none of it.
            let b = OrgScope(orgID: Self.orgB, actor: .user(Self.userB), context: TestDatabase.context, on: pool)
            #expect(try await b.fetchAll(Select.from(audit).columns(audit.seq), as: Int64.self).isEmpty)
            #expect(try await b.fetchOne(Select.from(runs).columns(count()), as: Int64.self) == 2)

            let admin = try await db.connect()
            #expect(try await admin.fetchOne("SELECT count(*) FROM runs WHERE org_id = 'aaaaaaaa-0000-0000-0000-000000000001'", as: Int.self) == 3)
            await admin.close()
        }
    }

    @Test func platformCurationOfThePublicCatalogIsAudited() async throws {
        try await withSeededSchema { db, pool in
            let owner = db.makePool()  // the superuser stands in for the owner's members (it never logs in)
            let curator = try UnscopedAccess(
                unsafelyBypassingOrgScopeFor: "add a public model (test)", auditedIn: Self.orgA, actor: .user(Self.userA),
                context: TestDatabase.context, on: owner)
            let curated = PublicCatalogItemsTable.table
            try await curator.execute(Insert.into(curated).values(curated.kind.set("model"), curated.slug.set("curated"), curated.name.set("Curated")))
            let items = CatalogItemsTable.table

            // Every org sees the new public item; A's audit log records the access.
            for org in [Self.orgA, Self.orgB] {
                let scope = OrgScope(orgID: org, actor: .user(Self.userA), context: TestDatabase.context, on: pool)
                #expect(try await scope.fetchOptional(Select.from(items).columns(items.name).where(items.slug == "curated"), as: String.self) == "Curated")
            }
            let audit = AuditLogTable.table
            struct Entry: Decodable { let action: String; let target: String? }
            let a = OrgScope(orgID: Self.orgA, actor: .user(Self.userA), context: TestDatabase.context, on: pool)
            let entries = try await a.fetchAll(Select.from(audit).columns(audit.action, audit.target), as: Entry.self)
            #expect(entries.map(\.action) == [UnscopedAccess.auditAction])
            #expect(entries.first?.target == "public_catalog_items")
            #expect(try await a.fetchOne("SELECT tenantkit_audit_verify()", as: Int64?.self) == nil)  // chain intact
            await owner.close()
        }
    }
}
