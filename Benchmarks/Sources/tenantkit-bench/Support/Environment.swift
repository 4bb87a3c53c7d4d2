import Foundation
import TenantKitMigrations
import TenantKitPostgres
import TenantKit
import TenantKitTesting

/// The role the benchmark uses for "RLS off": BYPASSRLS, created here, used by nothing else.
let bypassRole = "tenantkit_bench_bypass"
/// The application role of the schema (NOBYPASSRLS): every "scoped" contender logs in as it.
let appRole = "tenantkit_app"
/// The plain setting of before the signed context (issue 10), kept as a benchmark-only contender:
/// NOSUPERUSER NOBYPASSRLS, created here, with SELECT on `runs` and `catalog_items` and, for it
/// only, policies of the old form `org_id = (SELECT nullif(current_setting('tenantkit.org_id',
/// true), '')::uuid)`. Reached through `OrgScope(..., context: PlainSettingContext(), ...)`.
let plainRole = "tenantkit_bench_plain"
/// Benchmark-only SQL (pgbench's claim signing), in every benchmark database.
let benchSchema = "tenantkit_bench"

/// Ids are derived from integers so pgbench scripts (which only know numbers) can name the same rows:
/// `PPPPPPPP-0000-4000-8000-<n, 12 digits>`.
enum BenchIDs {
    static let orgPrefix = "00000000"
    static let runPrefix = "00000001"
    static let userPrefix = "00000003"
    static let publicItemPrefix = "00000004"
    static let privateItemPrefix = "00000005"
    static let apiKeyPrefix = "00000007"

    /// Org `n`'s API key, in the current format (`tk_<key id>_<org id>_<secret>`), as the loader hashes it.
    static func apiKeyText(org n: Int) -> String {
        "tk_\(hex(uuid(apiKeyPrefix, n)))_\(hex(org(n)))_bench-secret-\(n)"
    }
    static func hex(_ id: UUID) -> String { id.uuidString.lowercased().replacingOccurrences(of: "-", with: "") }

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
    var plain: PostgresConfiguration { superuser.with(user: plainRole) }
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
    /// The key every scope signs its context with, installed in every benchmark database; new for
    /// each run of the benchmark.
    let key: TenantContextKey
    /// TenantKit's context: what the scoped contenders send as `tenantkit_app`.
    let signed: SignedTenantContext
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
        key = TenantContextKey.generate()
        signed = SignedTenantContext(key: key)
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
                    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(plainRole)') THEN
                        CREATE ROLE \(plainRole) LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
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
            _ = try await PostgresConnection.withConnection(database.superuser) { try await $0.execute("ANALYZE") }
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
        // The claims every scoped contender signs are verified with this key (Schema/0012).
        try await key.install(on: connection)
        let org = BenchIDs.sql(BenchIDs.orgPrefix, "n")
        let orgOfItem = BenchIDs.sql(BenchIDs.orgPrefix, "(n - 1) % \(db.orgs) + 1")
        let orgOfRun = orgOfItem
        let apiKey = BenchIDs.sql(BenchIDs.apiKeyPrefix, "n")
        let user = BenchIDs.user.uuidString.lowercased()
        // Slugs start with a scrambled hex number so public and private items interleave in slug order.
        let scrambled = "lpad(to_hex((n::bigint * 2654435761) % 4294967296), 8, '0')"
        // As the superuser: the application may not insert users or memberships (Schema/0013), and
        // the data is consistent by construction, so triggers and FK checks are skipped while
        // loading (session_replication_role = replica). Consistent means what the schema enforces
        // for the application: every run with a cost has its debit (0014's runs_debit_required),
        // written in the same statement; emails are ASCII.
        try await connection.executeScript(unsafeSQL: """
            SET session_replication_role = replica;
            INSERT INTO users (id, email, email_verified) VALUES ('\(user)', 'bench@example.com', true);
            INSERT INTO organizations (id, name) SELECT \(org), 'Org ' || n FROM generate_series(1, \(db.orgs + 1)) n;
            INSERT INTO memberships (org_id, user_id, role) SELECT id, '\(user)', 'admin' FROM organizations;
            INSERT INTO ecu_accounts (org_id, balance) SELECT id, \(Self.initialBalance) FROM organizations;
            INSERT INTO api_keys (org_id, id, name, prefix, key_hash, created_by)
                SELECT \(org), \(apiKey), 'bench key ' || n, 'tk_' || replace(\(apiKey)::text, '-', ''),
                       sha256(convert_to('tk_' || replace(\(apiKey)::text, '-', '') || '_' || replace(\(org)::text, '-', '')
                                         || '_bench-secret-' || n, 'UTF8')),
                       '\(user)'
                FROM generate_series(1, \(db.orgs)) n;
            INSERT INTO public_catalog_items (id, kind, slug, name)
                SELECT \(BenchIDs.sql(BenchIDs.publicItemPrefix, "n")), 'model', \(scrambled) || '-p' || n, 'Public item ' || n
                FROM generate_series(1, \(db.publicItems)) n;
            INSERT INTO catalog_items (id, org_id, kind, slug, name)
                SELECT \(BenchIDs.sql(BenchIDs.privateItemPrefix, "n")), \(orgOfItem), 'model', \(scrambled) || '-' || n, 'Item ' || n
                FROM generate_series(1, \(db.orgs * db.itemsPerOrg)) n;
            WITH run AS (
                INSERT INTO runs (org_id, id, catalog_item_id, public_catalog_item_id, user_id, cost, status, created_at)
                SELECT \(orgOfRun), \(BenchIDs.sql(BenchIDs.runPrefix, "n")), '\(BenchIDs.publicItem.uuidString.lowercased())',
                       '\(BenchIDs.publicItem.uuidString.lowercased())',
                       '\(user)', n % 1000,
                       (ARRAY['queued', 'running', 'succeeded', 'failed'])[n % 4 + 1], now() - n * interval '1 second'
                FROM generate_series(1, \(db.runCount)) n
                RETURNING org_id, id, cost, created_at)
            INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key, balance_after, run_id, created_at)
                SELECT org_id, -cost, 'run', id::text, \(Self.initialBalance), id, created_at FROM run WHERE cost > 0;
            SET session_replication_role = DEFAULT;
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
        try await connection.executeScript(unsafeSQL: Self.plainSettingSQL)
        try await connection.executeScript(unsafeSQL: Self.signingSQL(signer: ClaimSigner(key)))
        try await checkServerSigning(on: connection)
        try await copyRoleSettings(from: appRole, to: [plainRole, bypassRole], database: db.name, on: connection)
        try await connection.executeScript(unsafeSQL: "VACUUM (ANALYZE)")
        await connection.close()
    }

    /// Every org's ECU balance after loading: large enough for any number of rounds of workload 4.
    static let initialBalance = "1000000000000000"

    /// The plain-setting contender's role (`plainRole`), in one database: SELECT on the tables
    /// workloads 1 and 3 read, and for that role only the policies of before issue 10 (0005 and
    /// 0007 as they were: an InitPlan of `current_setting`). No write policies: it only reads.
    static let plainSettingSQL = """
        GRANT SELECT ON runs, catalog_items, public_catalog_items TO \(plainRole);
        CREATE POLICY bench_plain_runs_read ON runs FOR SELECT TO \(plainRole)
            USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));
        CREATE POLICY bench_plain_catalog_items_read ON catalog_items FOR SELECT TO \(plainRole)
            USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));
        """

    /// pgbench cannot compute an HMAC, and a claim is bound to the backend it is sent on, so its
    /// scripts sign on the server: `\(benchSchema).sign_user_claim(org, user)` makes the claim
    /// `SignedTenantContext` makes in Swift (Schema/0012's layout, 120 s lifetime) inside the same
    /// statement that sets it. It is plain SQL the planner inlines, with the key's HMAC pads as
    /// literals: no table lookup and no function call of its own, which would cost more than the
    /// two `sha256` calls (a SECURITY DEFINER SQL function reading `tenantkit.context_keys` cost
    /// about 200 us per call, a plpgsql one about 55 us, this one about 30 us including the claim's
    /// text; measured with pgbench, 1 client). Benchmark databases only: the pads are readable in
    /// `pg_proc` there, so any role of those databases could sign (the key is made per run and the
    /// databases are dropped or replaced by the next run). That server work is what TenantKit does
    /// on the client, so pgbench's "same pipeline" baselines are that much slower than the statements.
    static func signingSQL(signer: ClaimSigner) -> String {
        let payload = """
            '11\(signer.keyID)' || replace(p_user::text, '-', '') || replace(p_org::text, '-', '') || repeat('0', 64) \
            || lpad(to_hex(pg_backend_pid()), 8, '0') || lpad(to_hex(extract(epoch FROM statement_timestamp())::bigint + \(signer.lifetimeSeconds)), 10, '0')
            """
        return """
        CREATE SCHEMA \(benchSchema);
        CREATE FUNCTION \(benchSchema).sign_user_claim(p_org uuid, p_user uuid) RETURNS text
        LANGUAGE sql STABLE
        AS $fn$
            SELECT (\(payload))
                   || encode(sha256('\\x\(signer.outerPadHex)'::bytea
                                    || sha256('\\x\(signer.innerPadHex)'::bytea || convert_to(\(payload), 'UTF8'))), 'hex')
        $fn$;
        REVOKE ALL ON FUNCTION \(benchSchema).sign_user_claim(uuid, uuid) FROM PUBLIC;
        GRANT USAGE ON SCHEMA \(benchSchema) TO \(appRole);
        GRANT EXECUTE ON FUNCTION \(benchSchema).sign_user_claim(uuid, uuid) TO \(appRole);
        """
    }

    /// The server-side claim of pgbench's scripts must verify like TenantKit's: checked once per
    /// database as tenantkit_app (a wrong claim would make pgbench read nothing, quickly).
    private func checkServerSigning(on connection: PostgresConnection) async throws {
        let org = BenchIDs.org(1), user = BenchIDs.user
        let verified = try await PostgresConnection.withConnection(connection.configuration.with(user: appRole)) { app in
            try await app.withTransaction { tx in
                try await tx.execute("SELECT set_config('tenantkit.claim', tenantkit_bench.sign_user_claim(\(org), \(user)), true)")
                return try await tx.fetchOne("SELECT tenantkit.current_org()", as: UUID?.self)
            }
        }
        guard verified == org else { throw BenchError("the server-side claim of the pgbench scripts does not verify") }
    }

    /// The role settings the migrations give tenantkit_app (`track_activities = off`, 0012), given to
    /// the benchmark's own roles too, so a comparison measures the context and the policies, not
    /// a setting.
    private func copyRoleSettings(from source: String, to targets: [String], database: String, on connection: PostgresConnection) async throws {
        struct Setting: Decodable { let global: Bool; let setting: String }
        let settings = try await connection.fetchAll("""
            SELECT s.setdatabase = 0 AS global, unnest(s.setconfig) AS setting
              FROM pg_db_role_setting s
             WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = \(source))
               AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
            """, as: Setting.self)
        for target in targets {
            for setting in settings {
                guard let equals = setting.setting.firstIndex(of: "=") else { continue }
                let name = String(setting.setting[..<equals])
                let value = String(setting.setting[setting.setting.index(after: equals)...])
                let scope = setting.global ? "" : " IN DATABASE \(PostgresIdentifier(database))"
                try await connection.executeScript(unsafeSQL: "ALTER ROLE \(PostgresIdentifier(target))\(scope) SET \(PostgresIdentifier(name)) = '\(value.replacingOccurrences(of: "'", with: "''"))'")
            }
        }
    }

    /// Where pgbench, psql and raw libpq connect: the same server, database and role as `configuration`.
    func libpqParameters(_ configuration: PostgresConfiguration) -> [String: String] {
        configuration.parameters
    }

    func shutdown() async {
        if server == nil && !options.keepDatabases {
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
