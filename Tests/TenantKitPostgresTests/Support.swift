import Foundation
import TenantKitPostgres
import TenantKitTesting
import Testing

/// Runs `body` with one connection to a fresh test database, closing it afterwards.
func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
    try await TestDatabase.with { db in try await PostgresConnection.withConnection(db.configuration, body) }
}

/// Two connections to one fresh database.
func withTwoConnections<T>(_ body: (PostgresConnection, PostgresConnection) async throws -> T) async throws -> T {
    try await TestDatabase.with { db in
        let a = try await db.connect()
        let b = try await db.connect()
        defer { Task { await a.close(); await b.close() } }
        return try await body(a, b)
    }
}
