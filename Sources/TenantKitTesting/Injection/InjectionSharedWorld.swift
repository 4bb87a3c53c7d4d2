import Foundation
import Synchronization
import TenantKitPostgres

/// One seeded ``InjectionWorld`` that every attack of an ``InjectionSuite`` runs in, for servers
/// where a fresh clone per attack cannot be had: on a Citus cluster `CREATE DATABASE ... TEMPLATE`
/// is refused (the maintenance daemon is connected to every database), and a new database would
/// need the extension and the node metadata on every node.
///
/// The suite still snapshots what the attacker must not touch before and after each attack. After
/// each attack this world also compares every table's rows and every node's per-database role
/// settings with those it had when first used, and puts back whatever changed (the attacker's own
/// org's writes, a victim check's item, an allowed `ALTER ROLE ... IN DATABASE`), so the next
/// attack starts from the same world a clone would give it.
///
/// ```swift
/// suite.sharedWorld = InjectionSharedWorld(database: coordinator, nodes: everyNode)
/// ```
public final class InjectionSharedWorld: Sendable {
    /// The world's database; its `configuration` is a superuser's. Never dropped by the suite.
    public let database: TestDatabase
    /// The same database on every node (the coordinator's included), for the per-node settings.
    let nodes: [PostgresConfiguration]
    private let baseline = Mutex<Baseline?>(nil)

    /// `database`: a superuser's configuration of a database holding the seeded world (see
    /// ``InjectionWorld/seed(_:)``); `nodes`: that database on every node of the cluster (by default
    /// `database` alone).
    public init(database: PostgresConfiguration, nodes: [PostgresConfiguration] = []) {
        self.database = TestDatabase(configuration: database, name: database.database ?? "")
        self.nodes = nodes.isEmpty ? [database] : nodes
    }

    /// The world as it is, table by table and node by node.
    struct Baseline: Sendable, Equatable {
        /// Each table's rows as JSON, sorted.
        var tables: [String: [String]]
        /// Each node's per-database role settings.
        var roleSettings: [String]
    }

    /// Records the world as it is now, the first time only: the state every attack starts from.
    func captureBaseline() async throws {
        if baseline.withLock({ $0 }) != nil { return }
        let now = try await read()
        baseline.withLock { $0 = $0 ?? now }
    }

    /// What ``restore()`` put back.
    struct Restoration: Sendable {
        /// Prepared transactions the attack left on some node: state kept past its session.
        var keptTransactions: [String] = []
        /// Rows and role settings put back.
        var changes: [String] = []
        var all: [String] { keptTransactions + changes }
    }

    /// Puts back whatever differs from the baseline; returns what it restored, empty when the
    /// attack changed nothing. Throws when the world cannot be restored.
    func restore() async throws -> Restoration {
        guard let before = baseline.withLock({ $0 }) else { return Restoration() }
        var restored = Restoration(keptTransactions: try await rollBackPreparedTransactions())
        let now = try await read()
        if now == before { return restored }
        let tables = before.tables.keys.sorted().filter { now.tables[$0] != before.tables[$0] }
        let added = Set(now.tables.keys).subtracting(before.tables.keys).sorted()
        if !added.isEmpty { throw RestoreError(problem: "tables appeared that the world did not have: \(added)") }
        if !tables.isEmpty {
            try await PostgresConnection.withConnection(database.configuration) { admin in
                // As the superuser, with triggers and foreign keys off (replica), so each table gets
                // its exact rows back whatever the others hold; on Citus the SET LOCALs reach the
                // workers, and one connection per node keeps reference and shard writes in order.
                try await admin.executeScript(unsafeSQL: "BEGIN")
                do {
                    try await admin.executeScript(unsafeSQL: "SET LOCAL citus.propagate_set_commands = 'local'")
                    try await admin.executeScript(unsafeSQL: "SET LOCAL session_replication_role = replica")
                    try await admin.executeScript(unsafeSQL: "SET LOCAL citus.multi_shard_modify_mode = 'sequential'")
                    for table in tables {
                        let rows = "[" + (before.tables[table] ?? []).joined(separator: ",") + "]"
                        _ = try await admin.execute("DELETE FROM \(unsafeRaw: table)")
                        _ = try await admin.execute("INSERT INTO \(unsafeRaw: table) SELECT * FROM json_populate_recordset(NULL::\(unsafeRaw: table), \(rows)::json)")
                    }
                    try await admin.executeScript(unsafeSQL: "COMMIT")
                } catch {
                    try? await admin.executeScript(unsafeSQL: "ROLLBACK")
                    throw error
                }
            }
            restored.changes += tables.map { "rows of \($0)" }
        }
        for (node, (then, now)) in zip(nodes, zip(before.roleSettings, now.roleSettings)) where then != now {
            try await PostgresConnection.withConnection(node) { admin in
                let roles = try await admin.fetchAll("""
                    SELECT s.setrole::regrole::text FROM pg_catalog.pg_db_role_setting s
                    WHERE s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
                    """, as: String.self)
                // On this node only: the coordinator would send the RESET on to the workers.
                try await admin.executeScript(unsafeSQL: "SET citus.enable_alter_role_set_propagation = off")
                for role in roles {
                    try await admin.executeScript(unsafeSQL: "ALTER ROLE \(role) IN DATABASE \(PostgresIdentifier(database.name)) RESET ALL")
                }
            }
            restored.changes.append("role settings in this database on \(node.host ?? "?"):\(node.port ?? "?")")
        }
        let after = try await read()
        if after != before {
            let still = before.tables.keys.sorted().filter { after.tables[$0] != before.tables[$0] }
            throw RestoreError(problem: "still different after restoring: tables \(still), role settings \(after.roleSettings != before.roleSettings)")
        }
        return restored
    }

    /// Prepared transactions an attack left in the world's database on any node (the suite's
    /// snapshot sees the coordinator's; one on a worker, reached through Citus, only shows here):
    /// they would hold their locks for the next attacks, and keep the database from being dropped.
    private func rollBackPreparedTransactions() async throws -> [String] {
        var kept: [String] = []
        for node in nodes {
            kept += try await PostgresConnection.withConnection(node) { admin in
                let gids = try await admin.fetchAll(
                    "SELECT gid FROM pg_catalog.pg_prepared_xacts WHERE database = current_database() ORDER BY gid", as: String.self)
                // A gid cannot be a bind: quoted as a literal (standard_conforming_strings is on).
                for gid in gids {
                    _ = try await admin.execute("ROLLBACK PREPARED \(unsafeRaw: "'" + gid.replacingOccurrences(of: "'", with: "''") + "'")")
                }
                return gids.map { "prepared transaction \($0) on \(node.host ?? "?"):\(node.port ?? "?")" }
            }
        }
        return kept
    }

    struct RestoreError: Error, CustomStringConvertible {
        let problem: String
        var description: String { "the shared world could not be restored: \(problem)" }
    }

    /// Every table of the `public` and `tenantkit` schemas (Citus's shards left out: the coordinator
    /// hides them, and their rows are read through their tables) and each node's role settings.
    private func read() async throws -> Baseline {
        struct Row: Decodable { let row: String }
        let tables = try await PostgresConnection.withConnection(database.configuration) { admin in
            let names = try await admin.fetchAll("""
                SELECT c.oid::regclass::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname IN ('public', 'tenantkit')
                  AND c.relname !~ '_[0-9]+$'
                ORDER BY 1
                """, as: String.self)
            var tables: [String: [String]] = [:]
            for name in names {
                tables[name] = try await admin.fetchAll(PostgresQuery(unsafeSQL: "SELECT row_to_json(t)::text FROM \(name) t"), as: String.self).sorted()
            }
            return tables
        }
        var settings: [String] = []
        for node in nodes {
            settings.append(try await PostgresConnection.withConnection(node) { admin in
                try await admin.fetchOne("""
                    SELECT coalesce(string_agg(s.setrole::regrole::text || ': ' || array_to_string(s.setconfig, ', '), '; '
                                               ORDER BY s.setrole::regrole::text), '')
                    FROM pg_catalog.pg_db_role_setting s
                    WHERE s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
                    """, as: String.self)
            })
        }
        return Baseline(tables: tables, roleSettings: settings)
    }
}
