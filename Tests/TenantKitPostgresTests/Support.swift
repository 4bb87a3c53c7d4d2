import Foundation
import TenantKitPostgres
import TenantKitTesting
import Testing

/// Runs `body` with one connection to a fresh test database, closing it afterwards.
func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
    try await TestDatabase.with { db in try await PostgresConnection.withConnection(db.configuration, body) }
}

/// The error `body` throws, as `E`; records a test failure if it throws nothing or something else.
func captureError<E: Error, T>(
    _: E.Type = E.self, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async -> E? {
    do {
        _ = try await body()
        Issue.record("expected \(E.self), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as E {
        return error
    } catch {
        Issue.record("expected \(E.self), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Whether a backend is still running a statement whose text contains `marker`.
func isRunning(_ marker: String, on observer: PostgresConnection) async throws -> Bool {
    let pattern = "%\(marker)%"
    return try await observer.fetchOne(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE \(pattern) AND pid <> pg_backend_pid()",
        as: Int.self) > 0
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
