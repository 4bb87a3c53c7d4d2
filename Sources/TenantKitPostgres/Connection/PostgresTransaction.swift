/// The handle of one open transaction, handed to the body of
/// ``PostgresConnection/withTransaction(prelude:isolation:_:)`` (and of the pool's).
///
/// While the transaction is open, only this handle may send statements on its connection; anything
/// else sent there (the connection's own verbs, another task's scope, another `withTransaction`)
/// fails with ``PostgresClientError/Kind/transactionInProgress`` before reaching the server. `BEGIN`
/// and the prelude travel with the first statement sent through the handle. Once the transaction
/// ends, the handle fails with ``PostgresClientError/Kind/transactionEnded``.
///
/// ```swift
/// try await connection.withTransaction { tx in
///     let balance = try await tx.fetchOne("SELECT balance FROM accounts WHERE id = \(id) FOR UPDATE", as: Int64.self)
///     try await tx.execute("UPDATE accounts SET balance = \(balance - amount) WHERE id = \(id)")
/// }
/// ```
public struct PostgresTransaction: PostgresExecutor {
    /// The connection the transaction runs on (for ``PostgresConnection/backendPID``,
    /// ``PostgresConnection/roundTrips`` and the like); statements sent on it directly are refused
    /// until the transaction ends.
    public let connection: PostgresConnection
    let id: TransactionOwnership.ID

    /// Runs one statement inside the transaction.
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await pipeline([query])[0]
    }

    /// Runs statements inside the transaction in one round trip; one result per statement.
    public func pipeline(_ queries: [PostgresQuery]) async throws -> [PostgresRows] {
        try await connection.pipeline(queries, as: .transaction(id))
    }

    /// Runs SQL text with the simple query protocol inside the transaction (see
    /// ``PostgresConnection/executeScript(unsafeSQL:)``); marks the connection for a reset.
    public func executeScript(unsafeSQL sql: String) async throws {
        try await connection.executeScript(sql, as: .transaction(id))
    }
}
