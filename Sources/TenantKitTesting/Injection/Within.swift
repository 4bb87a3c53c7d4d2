/// Runs `body` for at most `limit`: its value, or nil when it did not finish in time (it is then
/// cancelled, which cancels its statement on the server). Errors of `body` are rethrown.
///
/// ```swift
/// let blocked = try await within(.seconds(1)) { try await victim.credits.balance() } == nil
/// ```
public func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
}
