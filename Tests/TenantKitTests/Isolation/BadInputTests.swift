import Foundation
import TenantKitPostgres
import TenantKit
import TenantKitTesting
import TenantSQL
import Testing

/// Bad input: each gets a clear error naming the problem, and nothing is written.
///
/// Covered elsewhere, not repeated: URL schemes, bad ports and unknown options
/// (TenantKitPostgresTests/ConfigurationTests), a refused port and a missing database (same file), bad
/// migration file names, duplicate versions, gaps and directives (TenantKitMigrationsTests/MigrationFilesTests),
/// a directory that is invalid before anything runs and a failing file leaving nothing behind
/// (TenantKitMigrationsTests/MigratorTests), NUL bytes in strings (TenantKitPostgresTests/CodecTests).
@Suite struct BadInputTests {
    @Test(arguments: [
        ("postgres://app:hunter2@db.example.com:99999/stratix", "invalid port \"99999\""),
        ("postgres://app:hunter2@/stratix?sslmode=sometimes", "sslmode"),
        ("   ", "not a PostgreSQL URL"),
    ])
    func malformedDatabaseURLNamesTheProblemButNotThePassword(url: String, problem: String) async throws {
        let error = await Iso.error(PostgresClientError.self) {
            let configuration = try PostgresConfiguration.fromEnvironment(["DATABASE_URL": url])
            return try await PostgresConnection.connect(configuration)
        }
        #expect(error?.kind == .invalidConfiguration || error?.kind == .connectionFailed)
        #expect(error?.message.contains(problem) == true, "\(error.map(String.init(describing:)) ?? "")")
        #expect(error?.message.contains("hunter2") == false)
    }

    @Test func anUnknownHostFailsToConnectNamingTheHostAndThePoolStaysEmpty() async throws {
        let configuration = try PostgresConfiguration(url: "postgres://app:hunter2@no-such-host.invalid:5432/stratix?connect_timeout=5")
        let error = await Iso.error(PostgresClientError.self) { try await PostgresConnection.connect(configuration) }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.message.contains("no-such-host.invalid") == true)
        #expect(error?.message.contains("hunter2") == false)

        let pool = PostgresPool(configuration: configuration, maxConnections: 2)
        for _ in 0..<3 {
            let failure = await Iso.error(PostgresClientError.self) { try await pool.execute("SELECT 1") }
            #expect(failure?.kind == .connectionFailed)  // the real cause, not a pool timeout
        }
        #expect(await pool.openConnections == 0)
        await pool.close()
    }

    @Test func aWrongPasswordIsRefusedWithoutEchoingIt() async throws {
        let server = try await EmbeddedPostgres.start(tcpPassword: "right-horse-battery")
        defer { server.stop() }
        #expect(try await Iso.withConnection(server.tcpConfiguration) { try await $0.fetchOne("SELECT 1", as: Int32.self) } == 1)

        let wrong = server.tcpConfiguration.with(user: "postgres", password: "wrong-staple")
        let error = await Iso.error(PostgresClientError.self) { try await PostgresConnection.connect(wrong) }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.message.contains("password authentication failed for user \"postgres\"") == true, "\(error.map(String.init(describing:)) ?? "")")
        #expect(error?.message.contains("wrong-staple") == false)
        #expect("\(wrong)".contains("wrong-staple") == false)

        let none = server.tcpConfiguration.with(user: "postgres", password: nil)
        let missing = await Iso.error(PostgresClientError.self) { try await PostgresConnection.connect(none.with("passfile", "/dev/null")) }
        #expect(missing?.kind == .connectionFailed)
        #expect(missing?.message.contains("password") == true)
    }

    @Test func oversizedAndMalformedValuesAreRefusedByName() async throws {
        try await Iso.withTwoOrgs { db, a, _, pool in
            let scope = OrgScope(orgID: a.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            let items = CatalogItemsTable.table, orgs = OrganizationsTable.table, keys = APIKeysTable.table

            let cases: [(String, any Statement, SQLState, String?)] = [
                ("oversized name", Insert.into(items).values(items.kind.set("model"), items.slug.set("big"), items.name.set(String(repeating: "n", count: 201))),
                 .checkViolation, "catalog_items_name_check"),
                ("10 MB name", Insert.into(items).values(items.kind.set("model"), items.slug.set("huge"), items.name.set(String(repeating: "n", count: 10_000_000))),
                 .checkViolation, "catalog_items_name_check"),
                ("oversized slug", Insert.into(items).values(items.kind.set("model"), items.slug.set(String(repeating: "s", count: 129)), items.name.set("x")),
                 .checkViolation, "catalog_items_slug_format"),
                ("blank org name", Update.table(orgs).set(orgs.name.set("   ")), .checkViolation, "organizations_name_check"),
                ("metadata not an object", Insert.into(items).values(
                    items.kind.set("model"), items.slug.set("arr"), items.name.set("x"), items.metadata(as: [String].self).set(JSONB(["a"]))),
                 .checkViolation, "catalog_items_metadata_object"),
                ("oversized key name", Insert.into(keys).values(keys.name.set(String(repeating: "k", count: 201)), keys.prefix.set("tk"), keys.keyHash.set(Iso.sha256("k"))),
                 .checkViolation, "api_keys_name_check"),
                ("key hash not sha256", Insert.into(keys).values(keys.name.set("k"), keys.prefix.set("tk"), keys.keyHash.set(Data([1, 2, 3]))),
                 .checkViolation, "api_keys_key_hash_sha256"),
            ]
            for (what, statement, code, constraint) in cases {
                let error = await Iso.error(PostgresError.self) { try await scope.execute(statement) }
                #expect(error?.code == code, "\(what): \(error.map(String.init(describing:)) ?? "")")
                #expect(error?.constraint == constraint, "\(what)")
                if let constraint { #expect(error?.description.contains("constraint \(constraint)") == true, "\(what)") }
            }
            try await expectUnchanged(db, a)
        }
    }

    @Test func invalidEmailsAndUUIDsAreRefusedByName() async throws {
        try await Iso.withTwoOrgs { db, a, _, pool in
            let scope = OrgScope(orgID: a.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            let invitations = InvitationsTable.table
            let long = String(repeating: "x", count: 320) + "@example.com"
            for email in ["not-an-email", "two@@example.com", "spaces in@example.com", "@example.com", "me@", long] {
                let invite = await Iso.error(PostgresError.self) {
                    try await scope.execute(Insert.into(invitations).values(invitations.email.set(email), invitations.tokenHash.set(Iso.sha256(email))))
                }
                #expect(invite?.code == .checkViolation && invite?.constraint == "invitations_email_format", "\(email)")
                // Users are created only through the sign-up entry point.
                let user = await Iso.error(PostgresError.self) {
                    try await Iso.withConnection(db.configuration.with(user: "tenantkit_app")) {
                        try await $0.execute("SELECT tenantkit_create_user(\(email), NULL)")
                    }
                }
                #expect(user?.code == .checkViolation && user?.constraint == "users_email_format", "\(email)")
            }
            // A UUID arriving as text (from a URL, a form) is parsed by the server and refused by name.
            try await Iso.withConnection(db.configuration.with(user: "tenantkit_app")) { app async throws in
                for text in ["not-a-uuid", "\(a.id.uuidString)x", ""] {
                    let error = await Iso.error(PostgresError.self) {
                        try await app.query("SELECT tenantkit_verify_email(\(text)::uuid, 'no proof')")
                    }
                    #expect(error?.code == .invalidTextRepresentation)
                    #expect(error?.message.hasPrefix("invalid input syntax for type uuid") == true)
                }
                let stranger = try TestDatabase.context.statement(orgID: nil, actor: .user(UUID()), backendPID: app.backendPID)
                let unknown = await Iso.error(PostgresError.self) { try await app.pipeline([stranger, "SELECT tenantkit_create_organization('x')"]) }
                #expect(unknown?.code == SQLState("P0002"))
            }
            #expect(UUID(uuidString: "not-a-uuid") == nil)  // typed APIs cannot even be called with one
            try await expectUnchanged(db, a)
        }
    }

    @Test func zeroNegativeAndOverdraftingCreditAmountsChangeNothing() async throws {
        try await Iso.withTwoOrgs { db, a, _, pool in
            let scope = OrgScope(orgID: a.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            let ledger = CreditLedgerTable.table, runs = RunsTable.table
            func post(_ amount: Int64, _ key: String) async -> PostgresError? {
                await Iso.error(PostgresError.self) {
                    try await scope.execute(Insert.into(ledger).values(ledger.amount.set(amount), ledger.reason.set("bad"), ledger.idempotencyKey.set(key)))
                }
            }
            let zero = await post(0, "zero")
            #expect(zero?.code == .checkViolation && zero?.constraint == "ecu_ledger_amount_check")
            let overdraft = await post(-96, "overdraft")  // the balance is 95
            #expect(overdraft?.code == .checkViolation && overdraft?.constraint == "ecu_accounts_balance_check")
            #expect(overdraft?.description == "PostgreSQL error 23514 check_violation, constraint ecu_accounts_balance_check, table ecu_accounts")
            let overflow = await post(Int64.min, "overflow")
            #expect(overflow?.code == .numericValueOutOfRange || overflow?.code == .checkViolation)
            let emptyKey = await post(-1, "")
            #expect(emptyKey?.code == .checkViolation && emptyKey?.constraint == "ecu_ledger_idempotency_key_check")

            let publicItem = try await scope.fetchOne("SELECT id FROM public_catalog_items", as: UUID.self)
            let cost = await Iso.error(PostgresError.self) {
                try await scope.execute(Insert.into(runs).values(runs.catalogItemID.set(publicItem), runs.cost.set(-5)))
            }
            #expect(cost?.code == .checkViolation && cost?.constraint == "runs_cost_check")
            // TODO(issue 5): CreditLedger.grant(0 / negative) and debit(0 / negative) refused by the repository itself.
            try await expectUnchanged(db, a)
        }
    }

    /// Org A's data is exactly as the leak harness seeded it.
    private func expectUnchanged(_ db: TestDatabase, _ a: LeakHarness.Org, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        struct Counts: Decodable, Equatable { let items: Int; let keys: Int; let invitations: Int; let ledger: Int; let runs: Int; let balance: Int64; let name: String; let users: Int }
        let counts = try await Iso.withConnection(db.configuration) { admin async throws in
            try await admin.fetchOne("""
                SELECT (SELECT count(*) FROM catalog_items WHERE org_id = \(a.id)) AS items,
                       (SELECT count(*) FROM api_keys WHERE org_id = \(a.id)) AS keys,
                       (SELECT count(*) FROM invitations WHERE org_id = \(a.id)) AS invitations,
                       (SELECT count(*) FROM ecu_ledger WHERE org_id = \(a.id)) AS ledger,
                       (SELECT count(*) FROM runs WHERE org_id = \(a.id)) AS runs,
                       (SELECT balance FROM ecu_accounts WHERE org_id = \(a.id)) AS balance,
                       (SELECT name FROM organizations WHERE id = \(a.id)) AS name,
                       (SELECT count(*) FROM users) AS users
                """, as: Counts.self)
        }
        #expect(counts == Counts(items: 1, keys: 1, invitations: 1, ledger: 2, runs: 1, balance: 95, name: "Overlapping Org", users: 3),
                sourceLocation: sourceLocation)
    }
}
