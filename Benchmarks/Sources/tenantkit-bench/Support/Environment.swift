import Foundation
import Migrations
import Postgres
import TenantKitTesting

/// The role the benchmark uses for "RLS off": BYPASSRLS, created here, used by nothing else.
let bypassRole = "tenantkit_bench_bypass"
/// The application role of the schema (NOBYPASSRLS): every "scoped" contender logs in as it.
let appRole = "tenantkit_app"

/// Ids are derived from integers so pgbench scripts (which only know numbers) can name the same rows:
/// `PPPPPPPP-0000-4000-8000-<n, 12 digits>`.
enum BenchIDs {
    static let orgPrefix = "00000000"
    static let runPrefix = "00000001"
    static let userPrefix = "00000003"
    static let publicItemPrefix = "00000004"
    static let privateItemPrefix = "00000005"

    static func text(_ prefix: String, _ n: Int) -> String {
        let digits = String(n)
        return "\(prefix)-0000-4000-8000-\(String(repeating: "0", count: max(0, 12 - digits.count)))\(digits)"
    }
    static func uuid(_ prefix: String, _ n: Int) -> UUID { UUID(uuidString: text(prefix, n))! }
    static func org(_ n: Int) -> UUID { uuid(orgPrefix, n) }
    static func run(_ n: Int) -> UUID { uuid(runPrefix, n) }
    static let user = uuid(userPrefix, 1)
    static let publicItem = uuid(publicItemPrefix, 1)

    /// The same mapping in SQL, for generate_series loads and pgbench scripts: `n` is an integer expression.
    static func sql(_ prefix: String, _ n: String) -> String {
        "('\(prefix)-0000-4000-8000-' || lpad((\(n))::text, 12, '0'))::uuid"
    }
}

/// One benchmark database with the real schema (Schema/*.sql through the Migrations library) and data.
struct BenchDatabase: Sendable {
    let name: String
    let orgs: Int
    let itemsPerOrg: Int
    let publicItems: Int
    let runsPerOrg: Int
    let superuser: PostgresConfiguration
    var app: PostgresConfiguration { superuser.with(user: appRole) }
    var bypass: PostgresConfiguration { superuser.with(user: bypassRole) }
    /// The organization workload 5 inserts into and workload 4 starts runs in (not among the read orgs).
    var writerOrg: Int { orgs + 1 }
    var runCount: Int { orgs * runsPerOrg }
    /// Run n belongs to this org (runs are spread round-robin over the orgs).
    func orgOfRun(_ n: Int) -> Int { (n - 1) % orgs + 1 }
}

/// The server and the databases the workloads share.
final class BenchEnvironment: @unchecked Sendable {
    let options: Options
    let server: EmbeddedPostgres?
    /// A superuser connection to the maintenance database.
    let admin: PostgresConfiguration
    let serverVersion: String
    /// Scratch files (pgbench scripts and logs); removed by `shutdown`.
    let scratch: String
    private(set) var databases: [String: BenchDatabase] = [:]
    /// Seconds spent creating and loading each database.
    private(set) var loadSeconds: [String: Double] = [:]

    private init(options: Options, server: EmbeddedPostgres?, admin: PostgresConfiguration, serverVersion: String, scratch: String) {
        self.options = options
        self.server = server
        self.admin = admin
        self.serverVersion = serverVersion
        self.scratch = scratch
    }

    static func start(_ options: Options) async throws -> BenchEnvironment {
        var template = Array("/tmp/tenantkit-bench.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw BenchError("cannot create a scratch directory") }
        let scratch = String(cString: made)
        chmod(scratch, 0o755)
        let server: EmbeddedPostgres?
        let admin: PostgresConfiguration
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
            server = nil
            admin = try PostgresConfiguration(url: url)
        } else {
            let started = try await EmbeddedPostgres.start()
            server = started
            admin = started.configuration
        }
        do {
            let connection = try await PostgresConnection.connect(admin)
            let version = try await connection.fetchOne("SELECT version()", as: String.self)
            try await connection.executeScript(unsafeSQL: """
                DO $$ BEGIN
                    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(bypassRole)') THEN
                        CREATE ROLE \(bypassRole) LOGIN BYPASSRLS NOSUPERUSER;
                    END IF;
                END $$;
                """)
            await connection.close()
            return BenchEnvironment(options: options, server: server, admin: admin, serverVersion: version, scratch: scratch)
        } catch {
            server?.stop()
            try? FileManager.default.removeItem(atPath: scratch)
            throw error
        }
    }

    /// `ANALYZE`s every loaded database, as autovacuum would have by the time a real system is in
    /// steady state. Besides fresh statistics, this invalidates plans that long-lived connections
    /// cached in the warm-up while write-only tables (ledger, audit chain) were still empty: such a
    /// generic plan scans the whole table until the next ANALYZE (found in workload 4: 3.0 ms per start
    /// before, 0.6 ms after).
    func analyzeLoadedDatabases() async throws {
        for database in databases.values {
            try await PostgresConnection.withConnection(database.superuser) { try await $0.execute("ANALYZE") }
        }
    }

    /// The large database (orgs from the options): workloads 1-6 use it.
    func large() async throws -> BenchDatabase {
        try await database(name: "tk_bench_large", orgs: options.orgs, runsPerOrg: options.runsPerOrg)
    }

    /// The small database (same per-org size, fewer orgs): workload 3's comparison.
    func small() async throws -> BenchDatabase {
        try await database(name: "tk_bench_small", orgs: options.smallOrgs, runsPerOrg: 1)
    }

    private func database(name: String, orgs: Int, runsPerOrg: Int) async throws -> BenchDatabase {
        if let existing = databases[name] { return existing }
        let start = now()
        let database = BenchDatabase(
            name: name, orgs: orgs, itemsPerOrg: options.itemsPerOrg, publicItems: options.publicItems,
            runsPerOrg: runsPerOrg, superuser: admin.with(database: name))
        progress("loading \(name): \(orgs) orgs, \(orgs * options.itemsPerOrg) private + \(options.publicItems) public catalog items, \(orgs * runsPerOrg) runs...")
        let connection = try await PostgresConnection.connect(admin)
        try await connection.executeScript(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        try await connection.executeScript(unsafeSQL: "CREATE DATABASE \(name)")
        await connection.close()
        try await Migrator(directory: TestDatabaseTemplate.schemaDirectory).up(configuration: database.superuser)
        let schemaSeconds = Double(now() - start) / 1e9
        try await load(database)
        databases[name] = database
        let seconds = Double(now() - start) / 1e9
        loadSeconds[name] = seconds
        loadSeconds[name + " (schema only)"] = schemaSeconds
        progress(String(format: "loaded %@ in %.1f s (schema %.1f s)", name, seconds, schemaSeconds))
        return database
    }

    private func load(_ db: BenchDatabase) async throws {
        let connection = try await PostgresConnection.connect(db.superuser)
        let org = BenchIDs.sql(BenchIDs.orgPrefix, "n")
        let orgOfItem = BenchIDs.sql(BenchIDs.orgPrefix, "(n - 1) % \(db.orgs) + 1")
        let orgOfRun = orgOfItem
        // Slugs start with a scrambled hex number so public and private items interleave in slug order.
        let scrambled = "lpad(to_hex((n::bigint * 2654435761) % 4294967296), 8, '0')"
        // Triggers and FK checks are skipped while loading (the data is consistent by construction).
        try await connection.executeScript(unsafeSQL: """
            SET session_replication_role = replica;
            INSERT INTO users (id, email) VALUES ('\(BenchIDs.user.uuidString.lowercased())', 'bench@example.com');
            INSERT INTO organizations (id, name) SELECT \(org), 'Org ' || n FROM generate_series(1, \(db.orgs + 1)) n;
            INSERT INTO memberships (org_id, user_id, role)
                SELECT id, '\(BenchIDs.user.uuidString.lowercased())', 'admin' FROM organizations;
            INSERT INTO ecu_accounts (org_id, balance) SELECT id, 1000000000000000 FROM organizations;
            INSERT INTO catalog_items (id, org_id, kind, slug, name)
                SELECT \(BenchIDs.sql(BenchIDs.publicItemPrefix, "n")), NULL, 'model', \(scrambled) || '-p' || n, 'Public item ' || n
                FROM generate_series(1, \(db.publicItems)) n;
            INSERT INTO catalog_items (id, org_id, kind, slug, name)
                SELECT \(BenchIDs.sql(BenchIDs.privateItemPrefix, "n")), \(orgOfItem), 'model', \(scrambled) || '-' || n, 'Item ' || n
                FROM generate_series(1, \(db.orgs * db.itemsPerOrg)) n;
            INSERT INTO runs (org_id, id, catalog_item_id, user_id, cost, status, created_at)
                SELECT \(orgOfRun), \(BenchIDs.sql(BenchIDs.runPrefix, "n")), '\(BenchIDs.publicItem.uuidString.lowercased())',
                       '\(BenchIDs.user.uuidString.lowercased())', n % 1000,
                       (ARRAY['queued', 'running', 'succeeded', 'failed'])[n % 4 + 1], now() - n * interval '1 second'
                FROM generate_series(1, \(db.runCount)) n;
            CREATE TABLE bench_decode (
                id uuid PRIMARY KEY, small smallint NOT NULL, number integer NOT NULL, big bigint NOT NULL,
                score double precision NOT NULL, active boolean NOT NULL, name text NOT NULL, note text,
                created_at timestamptz NOT NULL, payload bytea NOT NULL);
            INSERT INTO bench_decode
                SELECT \(BenchIDs.sql("00000006", "n")), (n % 30000)::smallint, n, n::bigint * 1000003, n / 7.0, n % 2 = 0,
                       'name ' || n, CASE WHEN n % 3 = 0 THEN NULL ELSE 'note number ' || n END,
                       timestamptz '2025-01-01' + n * interval '1 minute', sha256(n::text::bytea)
                FROM generate_series(1, \(max(options.decodeRows, 1_000))) n;
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(bypassRole);
            GRANT SELECT ON bench_decode TO \(appRole);
            """)
        try await connection.executeScript(unsafeSQL: "VACUUM (ANALYZE)")
        await connection.close()
    }

    /// Where pgbench, psql and raw libpq connect: the same server, database and role as `configuration`.
    func libpqParameters(_ configuration: PostgresConfiguration) -> [String: String] {
        configuration.parameters
    }

    func shutdown() async {
        if server == nil {
            // A shared server: drop what we made.
            if let connection = try? await PostgresConnection.connect(admin) {
                for name in databases.keys {
                    try? await connection.executeScript(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                }
                await connection.close()
            }
        }
        server?.stop()
        try? FileManager.default.removeItem(atPath: scratch)
    }
}
