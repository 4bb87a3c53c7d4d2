import TenantKitPostgres
import Testing

/// The error `body` throws, as `E`; records a test failure (at the caller) when it throws nothing
/// or something else, and returns nil then.
///
/// ```swift
/// let error = await captureError(PostgresError.self) { try await connection.execute("SELECT 1/0") }
/// #expect(error?.code == .divisionByZero)
/// ```
public func captureError<E: Error, T>(
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

/// Whether a backend other than `observer`'s is running a statement whose text contains `marker`:
/// how a test sees that a statement reached the server, or that a cancel stopped it.
public func isRunning(_ marker: String, on observer: PostgresConnection) async throws -> Bool {
    let pattern = "%\(marker)%"
    return try await observer.fetchOne(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE \(pattern) AND pid <> pg_backend_pid()",
        as: Int.self) > 0
}
