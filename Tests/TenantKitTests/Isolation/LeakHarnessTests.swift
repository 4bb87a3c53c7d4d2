import Foundation
import TenantKitPostgres
import TenantKit
import TenantKitTesting
import TenantSQL
import Testing

/// The leak harness users run on their own tables: clean on TenantKit's schema, and it catches
/// each way a user's table can leak.
@Suite struct LeakHarnessTests {
    static let allTenantTables = [
        "api_keys", "audit_chain_heads", "audit_log", "catalog_items", "ecu_accounts", "ecu_ledger",
        "email_domain_claims", "invitations", "memberships", "org_email_domains", "organizations", "runs",
    ]

    @Test func tenantKitsOwnSchemaDoesNotLeak() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            var harness = LeakHarness(database: db)
            let runs = RunsTable.table, items = CatalogItemsTable.table
            harness.probes = [
                LeakProbe("runs through OrgScope") { org, pool in
                    try await OrgScope(orgID: org.id, actor: .user(org.userID), context: TestDatabase.context, on: pool)
                        .fetchAll(Select.from(runs).columns(runs.orgID), as: UUID?.self)
                },
                LeakProbe("catalog through OrgScope") { org, pool in
                    try await OrgScope(orgID: org.id, actor: .user(org.userID), context: TestDatabase.context, on: pool)
                        .fetchAll(Select.from(items).columns(items.orgID), as: UUID?.self)
                },
            ] + RepositoryProbes.all(admin: harness.adminConfiguration)
            let report = try await harness.run()
            try report.requireNoLeaks()
            #expect(report.tablesChecked.sorted() == Self.allTenantTables)
            #expect(report.leaks.isEmpty && report.catalogFindings.isEmpty && report.uncovered.isEmpty)
        }
    }

    /// A user's table with row-level security forgotten, or with a policy that lets everything through.
    @Test(arguments: ["no row-level security", "a permissive USING (true) policy"])
    func aLeakyUserTableIsNamedWithEveryOperation(mistake: String) async throws {
        try await TestDatabase.with(template: .migrated) { db in
            try await Iso.withConnection(db.configuration) { admin async throws in
                try await admin.execute("CREATE TABLE widgets (org_id uuid NOT NULL REFERENCES organizations (id), id uuid NOT NULL DEFAULT gen_random_uuid(), name text NOT NULL, PRIMARY KEY (org_id, id))")
                try await admin.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON widgets TO tenantkit_app")
                if mistake != "no row-level security" {
                    try await admin.execute("ALTER TABLE widgets ENABLE ROW LEVEL SECURITY")
                    try await admin.execute("ALTER TABLE widgets FORCE ROW LEVEL SECURITY")
                    try await admin.execute("CREATE POLICY widgets_tenant ON widgets TO tenantkit_app USING (org_id = (SELECT tenantkit.current_org()))")
                    try await admin.execute("CREATE POLICY widgets_oops ON widgets USING (true)")
                }
            }
            var harness = LeakHarness(database: db)
            harness.seeders.append(.init("widgets") { admin, org in
                try await admin.execute("INSERT INTO widgets (org_id, name) VALUES (\(org.id), 'same name')")
            })
            let report = try await harness.run()

            let widgetLeaks = Set(report.leaks.filter { $0.table == "widgets" }.map { "\($0.operation.rawValue) as \($0.org?.label ?? "-")" })
            #expect(widgetLeaks == [
                "SELECT as A", "SELECT as B", "UPDATE as A", "UPDATE as B", "DELETE as A", "DELETE as B",
                "INSERT as A", "INSERT as B", "SELECT with no org set as -",
            ])
            #expect(report.leaks.allSatisfy { $0.table == "widgets" })
            let expectedChecks: Set<String> = mistake == "no row-level security"
                ? ["rls-not-enabled", "rls-not-forced", "no-policy", "no-permissive-policy-for-app"]
                : ["policy-ignores-org"]
            #expect(Set(report.catalogFindings.map(\.check)) == expectedChecks)
            #expect(report.catalogFindings.allSatisfy { $0.subject.contains("public.widgets") })

            let error = #expect(throws: LeakError.self) { try report.requireNoLeaks() }
            #expect(error?.description.contains("widgets: SELECT as org A saw 1 row(s) of org B") == true)
            #expect(error?.description.contains("widgets: INSERT as org B inserted 1 row(s) with org A's id") == true)
            // The checks rolled back every write they tried.
            try await Iso.withConnection(db.configuration) { admin async throws in
                #expect(try await admin.fetchAll("SELECT name FROM widgets ORDER BY org_id = \(report.orgA.id)", as: String.self) == ["same name", "same name"])
            }
        }
    }

    @Test func aCorrectUserTablePassesAndAnUnseededOneIsNotSilentlyPassed() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            try await Iso.withConnection(db.configuration) { admin async throws in
                for table in ["gadgets", "gizmos"] {
                    try await admin.execute("CREATE TABLE \(identifier: table) (org_id uuid NOT NULL, name text NOT NULL)")
                    try await admin.execute("CREATE INDEX ON \(identifier: table) (org_id)")
                    try await admin.execute("ALTER TABLE \(identifier: table) ENABLE ROW LEVEL SECURITY")
                    try await admin.execute("ALTER TABLE \(identifier: table) FORCE ROW LEVEL SECURITY")
                    try await admin.execute("""
                        CREATE POLICY tenant ON \(identifier: table)
                        TO tenantkit_app
                        USING (org_id = (SELECT tenantkit.current_org()))
                        WITH CHECK (org_id = (SELECT tenantkit.current_org()))
                        """)
                    try await admin.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON \(identifier: table) TO tenantkit_app")
                }
            }
            var harness = LeakHarness(database: db)
            harness.seeders.append(.init("gadgets") { admin, org in
                try await admin.execute("INSERT INTO gadgets (org_id, name) VALUES (\(org.id), 'same')")
            })
            let report = try await harness.run()
            #expect(report.leaks.isEmpty && report.catalogFindings.isEmpty)
            #expect(report.uncovered == ["table gizmos: no rows of org A were seeded, so reads cannot be checked"])
            #expect(throws: LeakError.self) { try report.requireNoLeaks() }
            try report.requireNoLeaks(allowingUncovered: true)

            harness.excludedTables = ["gizmos"]
            let excluded = try await harness.run()
            try excluded.requireNoLeaks()
            #expect(excluded.excludedTables == ["gizmos"])
        }
    }

    @Test func aProbeThatReadsAroundTheScopeIsALeak() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            var harness = LeakHarness(database: db)
            let admin = db.configuration
            // A "repository" that forgot the scope and reads with a role that bypasses RLS.
            harness.probes = [LeakProbe("careless list") { _, _ in
                try await Iso.withConnection(admin) { try await $0.fetchAll("SELECT org_id FROM api_keys", as: UUID?.self) }
            }]
            let report = try await harness.run()
            #expect(report.leaks.map(\.description).sorted() == [
                "careless list: probe as org A returned 1 row(s) of org B",
                "careless list: probe as org B returned 1 row(s) of org A",
            ])
        }
    }
}

/// Every repository read as a leak probe: each returns, for every row it got back, the organization
/// that row belongs to (found as superuser), so a row of the other organization is caught.
enum RepositoryProbes {
    static func repositories(_ org: LeakHarness.Org, _ pool: PostgresPool) -> ActiveOrg {
        ActiveOrg(scope: OrgScope(orgID: org.id, actor: .user(org.userID), context: TestDatabase.context, on: pool))
    }

    /// The owner of each row, keyed by `column`: `org` when it has such a row, else whoever has.
    static func owners<K: PostgresEncodable>(
        _ table: String, _ column: String, _ keys: [K], org: LeakHarness.Org, admin: PostgresConfiguration
    ) async throws -> [UUID?] {
            let connection = try await PostgresConnection.connect(admin)
            var result: [UUID?] = []
            for key in keys {
                let holders = try await connection.fetchAll(
                    "SELECT org_id FROM \(identifier: table) WHERE \(identifier: column) = \(key) ORDER BY org_id = \(org.id) DESC",
                    as: UUID?.self)
                result.append(holders.first ?? UUID())  // a row nobody owns is a leak too
            }
            await connection.close()
            return result
    }

    static func all(admin: PostgresConfiguration) -> [LeakProbe] {
        [
            LeakProbe("organization.get") { org, pool in [try await repositories(org, pool).organization.get().id] },
            LeakProbe("catalog.page") { org, pool in try await repositories(org, pool).catalog.page().items.map(\.orgID) },
            LeakProbe("members.list") { org, pool in
                try await owners("memberships", "user_id", try await repositories(org, pool).members.list().map(\.userID), org: org, admin: admin)
            },
            LeakProbe("invitations.pending") { org, pool in
                try await owners("invitations", "id", try await repositories(org, pool).invitations.pending().map(\.id), org: org, admin: admin)
            },
            LeakProbe("domains.list") { org, pool in
                try await owners("org_email_domains", "domain", try await repositories(org, pool).domains.list().map(\.domain), org: org, admin: admin)
            },
            LeakProbe("apiKeys.list") { org, pool in
                try await owners("api_keys", "id", try await repositories(org, pool).apiKeys.list().map(\.id), org: org, admin: admin)
            },
            LeakProbe("credits.history") { org, pool in
                try await owners("ecu_ledger", "id", try await repositories(org, pool).credits.history().items.map(\.id), org: org, admin: admin)
            },
            LeakProbe("runs.recent") { org, pool in
                try await owners("runs", "id", try await repositories(org, pool).runs.page().items.map(\.id), org: org, admin: admin)
            },
            LeakProbe("audit.list") { org, pool in
                try await owners("audit_log", "occurred_at", try await repositories(org, pool).audit.page().items.map(\.occurredAt), org: org, admin: admin)
            },
        ]
    }
}
