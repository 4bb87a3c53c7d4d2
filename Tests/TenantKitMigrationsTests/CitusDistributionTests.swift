import Foundation
import TenantKitDoctor
import TenantKitMigrations
import TenantKitPostgres
import TenantKit
import TenantSQL
import Testing

/// TenantKit's schema on a real Citus cluster: migrate, distribute (twice), RLS on every shard
/// placement, and a scoped read and write that see only their org on the workers.
///
/// Opt-in: TENANTKIT_CITUS_URL names a superuser on the coordinator's maintenance database (for
/// example postgresql://postgres@127.0.0.1:57000/postgres) whose workers are registered there. Citus
/// is not in Debian, so CI has none: without the variable the suite says plainly that it did not run.
@Suite("Citus distribution", .serialized)
struct CitusDistributionTests {
    @Test func migrateAndDistributeOnTheCluster() async throws {
        try await CitusTestCluster.with(for: "CitusDistributionTests", run)
    }

    func run(on cluster: CitusTestCluster) async throws {
        let admin = cluster.coordinator

        // 1. One set of migrations applies on the coordinator.
        let migrator = Migrator(directory: schemaDirectory)
        let run = try await migrator.up(configuration: admin)
        #expect(run.applied.count == (try migrator.migrations().count))
        try await withConnection(admin) { connection in
            let detected = try await CitusCluster.detect(on: connection)
            #expect(detected?.version == cluster.version && detected?.hasDistributedTables == false)
            // Before anything is distributed the coordinator holds the schema alone.
            #expect(try await connection.fetchOne("SELECT count(*)::int FROM pg_dist_partition", as: Int.self) == 0)

            // 2. distribute refuses without a signing key, changing nothing.
            await #expect(throws: CitusDistribution.NotReady.self) { try await CitusDistribution.distribute(on: connection) }
            #expect(try await connection.fetchOne("SELECT count(*)::int FROM pg_dist_partition", as: Int.self) == 0)

            _ = try await connection.fetchOne("SELECT tenantkit.install_context_key(decode(repeat('ab', 32), 'hex'))", as: String.self)
            let first = try await CitusDistribution.distribute(on: connection)
            #expect(first.changes.count > CitusTablePlan.tenantKit.count)
            let second = try await CitusDistribution.distribute(on: connection)
            #expect(second.changes == [], "a second run changes nothing")

            struct Kind: Decodable, Equatable { let table: String; let method: String }
            let kinds = try await connection.fetchAll(
                "SELECT logicalrelid::regclass::text AS table, partmethod::text AS method FROM pg_dist_partition ORDER BY 1", as: Kind.self)
            let expected = CitusTablePlan.tenantKit.map { Kind(table: $0.table, method: $0.kind == .reference ? "n" : "h") }
                .sorted { $0.table < $1.table }
            #expect(kinds == expected)

            // 3. Every placement of every TenantKit table, on every node, has RLS enabled and forced
            // and the same number of policies as its table.
            let placements = try await connection.fetchAll(Self.placementsWithoutRLS, as: String.self)
            #expect(placements == [], "placements without RLS or policies: \(placements)")
            #expect(try await connection.fetchOne(
                "SELECT count(*)::int FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)", as: Int.self) > 32)

        }
        // 4. doctor, as the application, checks every placement: clean now; a placement whose RLS
        // is switched off on its worker is named.
        let clean = try await Doctor.check(configuration: admin.with(user: "tenantkit_app"))
        #expect(clean.findings.filter { $0.check == .placementRLS } == [])
        #expect(clean.notes.contains { $0.contains("every shard placement was checked") })
        struct Shard: Decodable { let name: String; let host: String; let port: Int; let shardid: Int }
        let shard = try await withConnection(admin) { connection in
            try await connection.fetchOne("""
                SELECT shard_name('runs'::regclass, s.shardid) AS name, p.nodename AS host, p.nodeport AS port, s.shardid
                FROM pg_dist_shard s JOIN pg_dist_shard_placement p USING (shardid)
                WHERE s.logicalrelid = 'runs'::regclass ORDER BY s.shardid LIMIT 1
                """, as: Shard.self)
        }
        // On the worker itself, to that one shard (the coordinator would change every placement).
        let worker = try #require(cluster.nodes.first { $0.port == String(shard.port) })
        try await withConnection(worker) {
            try await $0.executeScript(unsafeSQL: "SET citus.enable_manual_changes_to_shards = on; ALTER TABLE \(shard.name) NO FORCE ROW LEVEL SECURITY")
        }
        let broken = try await Doctor.check(configuration: admin.with(user: "tenantkit_app"))
        let named = broken.findings.filter { $0.check == .placementRLS }
        #expect(named.map(\.subject) == ["shard \(shard.shardid) of runs on \(shard.host):\(shard.port)"], "\(named)")
        try await withConnection(admin) { connection in
            _ = try await connection.fetchAll("SELECT result FROM run_command_on_placements('runs', 'ALTER TABLE %s FORCE ROW LEVEL SECURITY')", as: String.self)
        }
        // 5. A migration after distribution (as the owner, several statements) reaches every shard.
        try await withMigrationFiles(["0001_run_notes.sql": """
            SET LOCAL ROLE tenantkit_owner;
            ALTER TABLE runs ADD COLUMN note text;
            COMMENT ON COLUMN runs.note IS 'free text';
            """]) { directory async throws in
            let later = Migrator(sources: [MigrationSource(uncheckedName: "tenantkit", directory: schemaDirectory), .app(directory)])
            #expect(try await later.up(configuration: admin).applied.map(\.fileName) == ["0001_run_notes.sql"])
        }
        try await withConnection(admin) { connection in
            let missing = try await connection.fetchAll("""
                SELECT nodename || ':' || nodeport || ' ' || shardid FROM run_command_on_placements('runs',
                    $$SELECT count(*) FROM pg_attribute WHERE attrelid = '%s'::regclass AND attname = 'note'$$)
                WHERE NOT success OR result <> '1'
                """, as: String.self)
            #expect(missing == [], "placements without the new column: \(missing)")
        }
        try await cluster.scopedReadsStayInTheirOrg()
        try await cluster.tenantStoreWorksOnTheWorkers()
        // Each on its own, so one failing still lets the others report.
        for (name, check) in [("router plans", cluster.everyScopedStatementIsARouterPlan),
                              ("errors", cluster.errorsKeepTheirMeaning),
                              ("leak harness", cluster.leakHarnessFindsNothing),
                              ("tenant isolation", cluster.isolatingATenantKeepsItsWall),
                              ("the demo's story", cluster.demoStoryRunsDistributed),
                              ("curation", cluster.curationThroughUnscopedAccessIsAudited),
                              ("worker sessions", cluster.taintedConnectionsTakeTheirWorkerSessionsAlongOnlyWhenClosed),
                              ("measurements", cluster.measureOneServerAgainstTheCluster)] as [(String, @Sendable () async throws -> Void)] {
            do { try await check() } catch { Issue.record(error, "\(name): \(error)") }
        }
    }

    /// Each placement, checked on its own node, against its table on the coordinator: the same
    /// ENABLE and FORCE ROW LEVEL SECURITY and as many policies. Names every placement that differs,
    /// and every table with an org_id column whose placements lack RLS.
    static let placementsWithoutRLS: PostgresQuery = """
        WITH checked AS (
            SELECT s.logicalrelid::regclass::text AS rel, s.shardid, r.nodename, r.nodeport, r.success, r.result,
                   (t.relrowsecurity AND t.relforcerowsecurity)::text || ':'
                       || (SELECT count(*) FROM pg_policy p WHERE p.polrelid = s.logicalrelid) AS expected,
                   EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = s.logicalrelid AND a.attname = 'org_id') AS tenant
            FROM pg_dist_shard s JOIN pg_class t ON t.oid = s.logicalrelid,
                 LATERAL run_command_on_placements(s.logicalrelid,
                     $$SELECT (c.relrowsecurity AND c.relforcerowsecurity)::text || ':' || (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
                         FROM pg_class c WHERE c.oid = '%s'::regclass$$) r
            WHERE r.shardid = s.shardid
        )
        SELECT rel || ' shard ' || shardid || ' on ' || nodename || ':' || nodeport || ' (' || result || ', expected ' || expected || ')'
        FROM checked WHERE NOT success OR result <> expected OR (tenant AND result NOT LIKE 'true:%')
        ORDER BY 1
        """
}

/// A database of its own on every node of the cluster TENANTKIT_CITUS_URL points at.
struct CitusTestCluster: Sendable {
    let coordinator: PostgresConfiguration
    let nodes: [PostgresConfiguration]
    let maintenance: [PostgresConfiguration]
    let database: String
    let version: String

    /// nil, after saying so (as `suite`), when TENANTKIT_CITUS_URL is unset.
    static func make(for suite: String = "CitusDistributionTests") async throws -> CitusTestCluster? {
        guard let url = ProcessInfo.processInfo.environment["TENANTKIT_CITUS_URL"], !url.isEmpty else {
            print("\(suite): did NOT run: TENANTKIT_CITUS_URL is not set (a superuser URL of a Citus coordinator's maintenance database)")
            return nil
        }
        let base = try PostgresConfiguration(url: url)
        struct Node: Decodable { let name: String; let port: Int }
        let (workers, version) = try await withConnection(base) { connection in
            (try await connection.fetchAll(
                "SELECT nodename AS name, nodeport AS port FROM pg_dist_node WHERE groupid <> 0 AND noderole = 'primary' ORDER BY nodeport",
                as: Node.self),
             try await connection.fetchOne("SELECT extversion FROM pg_extension WHERE extname = 'citus'", as: String.self))
        }
        // Citus needs max_prepared_transactions > 0, so only the guard keeps the app role from
        // preparing a transaction of its own (Extensions/tenantkit_context); distribute checks
        // the workers.
        let guarded = try await withConnection(base) {
            try await $0.fetchOne("SELECT current_setting('tenantkit.prepare_guard', true)", as: String?.self)
        }
        try #require(guarded == "on", """
            the coordinator must preload TenantKit's prepare guard (docs/scaling.md): \
            ALTER SYSTEM SET session_preload_libraries = 'tenantkit_context'; SELECT pg_reload_conf(); \
            on every node
            """)
        let database = "tk_citus_\(UInt32.random(in: 0...UInt32.max))"
        let maintenance = [base] + workers.map { base.with("host", $0.name).with("port", String($0.port)) }
        for node in maintenance {
            try await withConnection(node) { try await $0.executeScript(unsafeSQL: "CREATE DATABASE \(database)") }
            try await withConnection(node.with(database: database)) { try await $0.executeScript(unsafeSQL: "CREATE EXTENSION citus") }
        }
        let coordinator = base.with(database: database)
        try await withConnection(coordinator) { connection in
            _ = try await connection.fetchAll(
                "SELECT citus_set_coordinator_host(\(base.host ?? "127.0.0.1"), \(Int(base.port ?? "5432") ?? 5432)::int)::text", as: String?.self)
            for worker in workers {
                _ = try await connection.fetchAll("SELECT citus_add_node(\(worker.name), \(worker.port)::int)::text", as: String?.self)
            }
        }
        return CitusTestCluster(coordinator: coordinator, nodes: maintenance.map { $0.with(database: database) },
                                maintenance: maintenance, database: database, version: version)
    }

    /// Runs `body` on a database of its own on every node, dropped afterwards; nothing (after
    /// saying so) when TENANTKIT_CITUS_URL is unset.
    static func with(for suite: String, _ body: (CitusTestCluster) async throws -> Void) async throws {
        guard let cluster = try await make(for: suite) else { return }
        do {
            try await body(cluster)
        } catch {
            await cluster.drop()
            throw error
        }
        await cluster.drop()
    }

    /// Drops the database on every node, workers first (their maintenance daemons connect to the
    /// coordinator's copy).
    func drop() async {
        for node in maintenance.reversed() {
            try? await withConnection(node) { try await $0.executeScript(unsafeSQL: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        }
    }

    /// TenantKit's own store, signing with the key the test installed, its claim sent as SET LOCAL:
    /// sign-up and org creation (entry points), a scoped read of each org, an injection in one
    /// org's scope that tries to claim the other.
    func tenantStoreWorksOnTheWorkers() async throws {
        let key = try TenantContextKey(secret: [UInt8](repeating: 0xab, count: 32))
        let pool = PostgresPool(configuration: coordinator.with(user: "tenantkit_app"), maxConnections: 1, taintedConnections: .close)
        let store = TenantStore(pool: pool, key: key, transport: .setLocal)
        let ada = try await store.createUser(email: "ada@acme.test", emailVerified: true)
        let bob = try await store.createUser(email: "bob@globex.test", emailVerified: true)
        let acme = try await store.createOrganization(named: "Acme", by: ada.id)
        let globex = try await store.createOrganization(named: "Globex", by: bob.id)
        let inAcme = store.scope(acme, as: .user(ada.id))
        #expect(try await inAcme.fetchAll("SELECT name FROM organizations", as: String.self) == ["Acme"])
        #expect(try await store.scope(globex, as: .user(bob.id)).fetchAll("SELECT name FROM organizations", as: String.self) == ["Globex"])
        // The audit log (distributed by org_id) holds each org's creation, seen by its own org only.
        #expect(try await inAcme.fetchAll("SELECT DISTINCT org_id FROM audit_log", as: UUID.self) == [acme])
        // An injection inside Acme's scope: a plain SET of a forged claim, then reads of Globex.
        let forged = String(repeating: "0", count: 220)
        let seen = try await inAcme.pipeline([
            PostgresQuery(unsafeSQL: "SET LOCAL tenantkit.claim = '\(forged)'"),
            PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM audit_log WHERE org_id = '\(globex)'"),
            PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM organizations"),
        ])
        #expect(try seen[1].first!.decode(Int.self, at: 0) == 0)
        #expect(try seen[2].first!.decode(Int.self, at: 0) == 0, "the forged claim replaced Acme's: nothing at all")
        #expect(try await inAcme.fetchAll("SELECT name FROM organizations", as: String.self) == ["Acme"], "the next scope is whole again")
        await pool.close()
    }

    /// Two orgs with a run each (on whichever workers hash them): a claim sent as SET LOCAL inside
    /// the transaction sees and writes only its org on the workers; the same claim through
    /// set_config, a forged claim and no claim see nothing.
    func scopedReadsStayInTheirOrg() async throws {
        try await withConnection(coordinator) { c in
            try await c.executeScript(unsafeSQL: """
                INSERT INTO users (id, email) VALUES ('00000000-0000-0000-0000-00000000000a', 'a@a.example'), ('00000000-0000-0000-0000-00000000000b', 'b@b.example');
                INSERT INTO organizations (id, name) VALUES ('00000000-0000-0000-0000-0000000000a1', 'A'), ('00000000-0000-0000-0000-0000000000b1', 'B');
                INSERT INTO memberships (org_id, user_id, role) VALUES ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-00000000000a', 'admin'),
                                                                       ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-00000000000b', 'admin');
                INSERT INTO public_catalog_items (id, kind, slug, name) VALUES ('00000000-0000-0000-0000-0000000000c1', 'model', 'pub', 'public')
                """)
        }
        let app = coordinator.with(user: "tenantkit_app")
        try await withConnection(app) { c in
            // A claim signed for this backend, the way SignedTenantContext lays it out (Schema/0012),
            // with the key the test installed; the MAC computed by a superuser connection.
            func claim(user: String, org: String) async throws -> String {
                let pid = try await c.fetchOne("SELECT pg_backend_pid()", as: Int.self)
                return try await withConnection(coordinator) { admin in
                    try await admin.fetchOne("""
                        WITH b AS (SELECT '1' || '1' || (SELECT key_id FROM tenantkit.context_keys LIMIT 1) || \(user) || \(org) || repeat('0', 64)
                                          || lpad(to_hex(\(pid)::int), 8, '0') || lpad(to_hex(extract(epoch FROM now())::bigint + 600), 10, '0') AS body)
                        SELECT body || tenantkit.mac(substr(body, 3, 8), body) FROM b
                        """, as: String.self)
                }
            }
            let a = try await claim(user: "0000000000000000000000000000000a", org: "000000000000000000000000000000a1")
            let b = try await claim(user: "0000000000000000000000000000000b", org: "000000000000000000000000000000b1")
            try await c.executeScript(unsafeSQL: "SET citus.propagate_set_commands = 'local'")
            for (claim, org) in [(a, "00000000-0000-0000-0000-0000000000a1"), (b, "00000000-0000-0000-0000-0000000000b1")] {
                // The claim is hex digits only (checked here), so splicing it is safe.
                #expect(claim.count == 220 && claim.allSatisfy(\.isHexDigit))
                // One statement per message: Citus forwards a SET LOCAL to the workers as the text
                // of the whole query it came in, so a multi-statement script would run there too.
                try await c.executeScript(unsafeSQL: "BEGIN")
                try await c.executeScript(unsafeSQL: "SET LOCAL tenantkit.claim = '\(claim)'")
                try await c.execute("INSERT INTO runs (catalog_item_id) VALUES ('00000000-0000-0000-0000-0000000000c1')")
                try await c.executeScript(unsafeSQL: "COMMIT")
                try await c.executeScript(unsafeSQL: "BEGIN")
                try await c.executeScript(unsafeSQL: "SET LOCAL tenantkit.claim = '\(claim)'")
                let seen = try await c.fetchAll("SELECT org_id::text FROM runs", as: String.self)
                #expect(seen == [org], "a scope sees its own org's run on the workers, nothing else")
                try await c.executeScript(unsafeSQL: "COMMIT")
            }
            // Org A's claim, but as set_config: Citus does not send it to the workers.
            try await c.executeScript(unsafeSQL: "BEGIN")
            _ = try await c.fetchOne("SELECT set_config('tenantkit.claim', \(a), true)", as: String.self)
            #expect(try await c.fetchOne("SELECT count(*)::int FROM runs", as: Int.self) == 0)
            try await c.executeScript(unsafeSQL: "COMMIT")
            // An injection in A claiming B: A's MAC under B's org does not verify on any node.
            let forged = String(a.prefix(42)) + "000000000000000000000000000000b1" + String(a.dropFirst(74))
            try await c.executeScript(unsafeSQL: "BEGIN")
            try await c.executeScript(unsafeSQL: "SET LOCAL tenantkit.claim = '\(forged)'")
            #expect(try await c.fetchOne("SELECT count(*)::int FROM runs", as: Int.self) == 0)
            await #expect(throws: PostgresError.self) {
                try await c.executeScript(unsafeSQL: "INSERT INTO runs (org_id, catalog_item_id) VALUES ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000c1')")
            }
            try await c.executeScript(unsafeSQL: "ROLLBACK")
            // No claim: nothing.
            #expect(try await c.fetchOne("SELECT count(*)::int FROM runs", as: Int.self) == 0)
        }
        // Straight to a worker as the application: a claim signed for that backend still opens
        // nothing, since the verifier accepts only statements a coordinator backend started.
        if nodes.count > 1 {
            try await withConnection(nodes[1].with(user: "tenantkit_app")) { w in
                #expect(try await w.fetchOne("SELECT count(*)::int FROM runs", as: Int.self) == 0)
                let pid = try await w.fetchOne("SELECT pg_backend_pid()", as: Int.self)
                let local = try await withConnection(coordinator) { admin in
                    try await admin.fetchOne("""
                        WITH b AS (SELECT '11' || (SELECT key_id FROM tenantkit.context_keys LIMIT 1) || '0000000000000000000000000000000a'
                                          || '000000000000000000000000000000a1' || repeat('0', 64)
                                          || lpad(to_hex(\(pid)::int), 8, '0') || lpad(to_hex(extract(epoch FROM now())::bigint + 600), 10, '0') AS body)
                        SELECT body || tenantkit.mac(substr(body, 3, 8), body) FROM b
                        """, as: String.self)
                }
                #expect(local.count == 220 && local.allSatisfy(\.isHexDigit))
                try await w.executeScript(unsafeSQL: "BEGIN")
                try await w.executeScript(unsafeSQL: "SET LOCAL tenantkit.claim = '\(local)'")
                #expect(try await w.fetchOne("SELECT count(*)::int FROM runs", as: Int.self) == 0)
                #expect(try await w.fetchOne("SELECT tenantkit.current_org() IS NULL", as: Bool.self))
                try await w.executeScript(unsafeSQL: "COMMIT")
            }
        }
    }
}
