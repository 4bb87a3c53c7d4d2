import TenantKitPostgres

/// What the migrator and `doctor` need to know about a Citus coordinator: whether the database
/// has the `citus` extension at all, and whether any of its tables is distributed yet.
///
/// Detected from `pg_extension`, so a single server (no `citus`) never runs a Citus-only step.
///
/// ```swift
/// if let citus = try await CitusCluster.detect(on: connection), citus.hasDistributedTables {
///     print("Citus \(citus.version): schema changes propagate to the workers")
/// }
/// ```
public struct CitusCluster: Sendable, Equatable {
    /// The installed extension's version (`pg_extension.extversion`), for messages.
    public let version: String
    /// True once any table of the database is distributed or a reference table
    /// (`pg_dist_partition` has a row); from then on schema changes must reach the workers.
    public let hasDistributedTables: Bool

    /// The cluster `connection` talks to, or nil when its database has no `citus` extension.
    public static func detect(on connection: PostgresConnection) async throws -> CitusCluster? {
        struct Row: Decodable { let version: String?; let distributed: Bool }
        // pg_dist_partition only exists with the extension: the second query runs only then.
        let version = try await connection.fetchOne(
            "SELECT (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'citus') AS version, false AS distributed",
            as: Row.self).version
        guard let version else { return nil }
        let distributed = try await connection.fetchOne(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition)", as: Bool.self)
        return CitusCluster(version: version, hasDistributedTables: distributed)
    }
}
