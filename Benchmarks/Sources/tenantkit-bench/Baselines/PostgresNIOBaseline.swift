import Foundation
import Logging
import PostgresNIO

/// postgres-nio's `PostgresClient`: what a Swift developer uses today. This file imports only
/// PostgresNIO (its type names overlap with TenantKit's Postgres module).
final class NIOClient: @unchecked Sendable {
    let client: PostgresClient
    private let runner: Task<Void, Never>

    /// - Parameters: `parameters` are libpq-style keywords (host may be a socket directory).
    init(parameters: [String: String], maxConnections: Int) {
        let host = parameters["host"] ?? "127.0.0.1"
        let port = Int(parameters["port"] ?? "5432") ?? 5432
        var configuration: PostgresClient.Configuration
        if host.hasPrefix("/") {
            configuration = .init(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: parameters["user"] ?? "postgres",
                                  password: parameters["password"], database: parameters["dbname"])
        } else {
            configuration = .init(host: host, port: port, username: parameters["user"] ?? "postgres",
                                  password: parameters["password"], database: parameters["dbname"], tls: .disable)
        }
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 0
        let client = PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "bench.nio", factory: { _ in SwiftLogNoOpLogHandler() }))
        self.client = client
        self.runner = Task { await client.run() }
    }

    func shutdown() async {
        runner.cancel()
        _ = await runner.value
    }

    /// Point read through `query` (unnamed statement: parse, bind, execute in one round trip).
    func runByID(org: UUID, id: UUID) async throws {
        var binds = PostgresBindings()
        binds.append(org)
        binds.append(id)
        let rows = try await client.query(PostgresQuery(unsafeSQL: SQLText.runByID, binds: binds))
        var found = 0
        for try await (_, _, _, _) in rows.decode((UUID, String, Int64, Date).self) { found += 1 }
        if found != 1 { throw BenchError("postgres-nio: run not found") }
    }

    /// Point read through a named prepared statement (`execute(_:)`).
    func runByIDPrepared(org: UUID, id: UUID) async throws {
        let rows = try await client.execute(RunByID(org: org, id: id))
        var found = 0
        for try await _ in rows { found += 1 }
        if found != 1 { throw BenchError("postgres-nio: run not found") }
    }

    /// Workload 6: fetch and decode `limit` rows of ten mixed columns.
    func decodeRows(limit: Int) async throws -> Int {
        var binds = PostgresBindings()
        binds.append(Int64(limit))
        let rows = try await client.query(PostgresQuery(unsafeSQL: SQLText.decodeRows, binds: binds))
        var count = 0
        for try await row in rows.decode((UUID, Int16, Int32, Int64, Double, Bool, String, String?, Date, ByteBuffer).self) {
            _ = row
            count += 1
        }
        return count
    }

    struct RunByID: PostgresPreparedStatement {
        static let sql = SQLText.runByID
        typealias Row = (UUID, String, Int64, Date)
        let org: UUID
        let id: UUID
        func makeBindings() throws -> PostgresBindings {
            var binds = PostgresBindings(capacity: 2)
            binds.append(org)
            binds.append(id)
            return binds
        }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }
}
