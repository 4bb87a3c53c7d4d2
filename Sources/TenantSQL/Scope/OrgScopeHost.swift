import Foundation
import Logging
import TenantKitPostgres

/// Where a scope runs its work: a ``PostgresPool`` (the usual case) or one ``PostgresConnection``.
///
/// The prelude is made per connection, from its backend process id, because the context it sets
/// is bound to that backend.
public protocol OrgScopeHost: PostgresExecutor {
    /// Runs `prelude + queries` in one pipeline on one connection.
    func pipeline(
        prelude: @Sendable (Int32) throws -> [PostgresQuery], _ queries: [PostgresQuery]
    ) async throws -> [PostgresRows]

    /// Runs `BEGIN`, `prelude`, `queries` and `COMMIT` in one pipeline on one connection (one round
    /// trip); after a failure it rolls the block back on that connection, so it is left in no
    /// transaction. For contexts that hold only inside a transaction block (`SET LOCAL`).
    func pipelineInTransactionBlock(
        prelude: @Sendable (Int32) throws -> [PostgresQuery], _ queries: [PostgresQuery]
    ) async throws -> [PostgresRows]

    /// Runs `body` in a transaction on one connection, handing it the transaction; `prelude` travels
    /// with the body's first statement.
    func withScopedTransaction<T: Sendable>(
        prelude: @Sendable (Int32) throws -> [PostgresQuery],
        isolation: PostgresConnection.IsolationLevel,
        _ body: @Sendable (PostgresTransaction) async throws -> T
    ) async throws -> T
}

extension PostgresPool: OrgScopeHost {
    public nonisolated func pipelineInTransactionBlock(
        prelude: @Sendable (Int32) throws -> [PostgresQuery], _ queries: [PostgresQuery]
    ) async throws -> [PostgresRows] {
        try await withConnection { connection in try await connection.pipelineInTransactionBlock(prelude: prelude, queries) }
    }

    public nonisolated func withScopedTransaction<T: Sendable>(
        prelude: @Sendable (Int32) throws -> [PostgresQuery],
        isolation: PostgresConnection.IsolationLevel,
        _ body: @Sendable (PostgresTransaction) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await connection.withScopedTransaction(prelude: prelude, isolation: isolation, body)
        }
    }
}

extension PostgresConnection: OrgScopeHost {
    public func pipeline(
        prelude: @Sendable (Int32) throws -> [PostgresQuery], _ queries: [PostgresQuery]
    ) async throws -> [PostgresRows] {
        try await pipeline(prelude(backendPID) + queries)
    }

    public func withScopedTransaction<T: Sendable>(
        prelude: @Sendable (Int32) throws -> [PostgresQuery],
        isolation: PostgresConnection.IsolationLevel,
        _ body: @Sendable (PostgresTransaction) async throws -> T
    ) async throws -> T {
        try await withTransaction(prelude: prelude(backendPID), isolation: isolation, body)
    }

    public func pipelineInTransactionBlock(
        prelude: @Sendable (Int32) throws -> [PostgresQuery], _ queries: [PostgresQuery]
    ) async throws -> [PostgresRows] {
        let statements: [PostgresQuery] = ["BEGIN"] + (try prelude(backendPID)) + queries + ["COMMIT"]
        do {
            return try await pipeline(statements)
        } catch {
            // The failed statement left the block aborted and skipped COMMIT: end it here, so the
            // connection carries no transaction (and no context) to its next use.
            _ = try? await pipeline(["ROLLBACK"])
            throw error
        }
    }
}

/// Runs builder statements; shared by ``OrgScope``, ``ScopedTransaction`` and ``UnscopedAccess``.
///
/// The verbs mirror ``PostgresExecutor``'s: `query`, `execute`, `fetchAll`, `fetchOne`, `fetchOptional`.
public protocol StatementExecutor: PostgresExecutor {
    /// The statement's SQL and binds as this executor would send them (org predicates included).
    func render(_ statement: some Statement) throws -> PostgresQuery
    /// Runs a statement and returns its rows (the other verbs go through this).
    func query<S: Statement>(_ statement: S) async throws -> PostgresRows
}

extension StatementExecutor {
    /// Runs a statement and returns its rows.
    public func query<S: Statement>(_ statement: S) async throws -> PostgresRows {
        try await query(render(statement))
    }

    /// Runs a statement and returns the number of rows it inserted, updated or deleted.
    @discardableResult
    public func execute(_ statement: some Statement) async throws -> Int {
        try await query(statement).affectedRows
    }

    /// Every row, decoded.
    @_disfavoredOverload
    public func fetchAll<T: Decodable>(_ statement: some Statement, as type: T.Type) async throws -> [T] {
        try await query(statement).decode(as: type)
    }

    /// The first row, decoded, or nil.
    @_disfavoredOverload
    public func fetchOptional<T: Decodable>(_ statement: some Statement, as type: T.Type) async throws -> T? {
        try await query(statement).first?.decode(as: type)
    }

    /// The first row, decoded; throws when there is none.
    @_disfavoredOverload
    public func fetchOne<T: Decodable>(_ statement: some Statement, as type: T.Type) async throws -> T {
        guard let value = try await fetchOptional(statement, as: type) else {
            throw PostgresClientError(.noRows, "the query returned no rows")
        }
        return value
    }
}

extension StatementExecutor {
    /// Runs a statement, logging to `logger` (for example a request's, carrying its id).
    public func query<S: Statement>(_ statement: S, logger: Logger) async throws -> PostgresRows {
        try await StatementLogger.with(logger) { try await query(statement) }
    }

    /// Runs a statement and returns the rows it changed, logging to `logger`.
    @discardableResult
    public func execute(_ statement: some Statement, logger: Logger) async throws -> Int {
        try await StatementLogger.with(logger) { try await execute(statement) }
    }

    /// Every row, decoded, logging to `logger`.
    public func fetchAll<T: Decodable>(_ statement: some Statement, as type: T.Type, logger: Logger) async throws -> [T] {
        try await StatementLogger.with(logger) { try await fetchAll(statement, as: type) }
    }

    /// The first row, decoded, or nil, logging to `logger`.
    public func fetchOptional<T: Decodable>(_ statement: some Statement, as type: T.Type, logger: Logger) async throws -> T? {
        try await StatementLogger.with(logger) { try await fetchOptional(statement, as: type) }
    }

    /// The first row, decoded, logging to `logger`; throws when there is none.
    public func fetchOne<T: Decodable>(_ statement: some Statement, as type: T.Type, logger: Logger) async throws -> T {
        try await StatementLogger.with(logger) { try await fetchOne(statement, as: type) }
    }
}

extension StatementExecutor {
    /// Every row, through `T.init(row:)`.
    public func fetchAll<T: PostgresRowDecodable>(_ statement: some Statement, as type: T.Type) async throws -> [T] {
        try await query(statement).decode(as: type)
    }

    /// The first row through `T.init(row:)`, or nil.
    public func fetchOptional<T: PostgresRowDecodable>(_ statement: some Statement, as type: T.Type) async throws -> T? {
        try await query(statement).first.map(T.init(row:))
    }

    /// The first row through `T.init(row:)`; throws when there is none.
    public func fetchOne<T: PostgresRowDecodable>(_ statement: some Statement, as type: T.Type) async throws -> T {
        guard let value = try await fetchOptional(statement, as: type) else {
            throw PostgresClientError(.noRows, "the query returned no rows")
        }
        return value
    }
}

extension OrgScopeHost {
    /// The block in one ``pipeline(prelude:_:)``, without the rollback after a failure: a pooled
    /// connection left in the aborted block is then closed by its pool rather than reused. The pool
    /// and the connection replace it with their own, which roll back.
    public func pipelineInTransactionBlock(
        prelude: @Sendable (Int32) throws -> [PostgresQuery], _ queries: [PostgresQuery]
    ) async throws -> [PostgresRows] {
        try await pipeline(prelude: { ["BEGIN"] + (try prelude($0)) }, queries + ["COMMIT"])
    }

    /// Runs `queries` after the context statements `prelude` makes for the connection, in one round
    /// trip (inside `BEGIN` ... `COMMIT` when `inTransactionBlock`), and returns the queries' results
    /// only. A failure's `statementIndex` counts the caller's statements only: nil for a single query
    /// or a failing context statement.
    package func run(
        _ queries: [PostgresQuery], after prelude: @escaping @Sendable (Int32) throws -> [PostgresQuery], inTransactionBlock: Bool
    ) async throws -> [PostgresRows] {
        let leading = PreludeCount()
        let counted: @Sendable (Int32) throws -> [PostgresQuery] = { pid in
            let statements = try prelude(pid)
            leading.set(statements.count + (inTransactionBlock ? 1 : 0))
            return statements
        }
        do {
            let results = inTransactionBlock
                ? try await pipelineInTransactionBlock(prelude: counted, queries)
                : try await pipeline(prelude: counted, queries)
            return Array(results.dropFirst(leading.value).prefix(queries.count))
        } catch var error as PostgresError {
            let index = error.statementIndex.map { $0 - leading.value }
            error.statementIndex = queries.count > 1 && (index ?? -1) >= 0 && (index ?? 0) < queries.count ? index : nil
            throw error
        }
    }
}

/// How many statements went before the caller's: known only once the prelude was made for its
/// connection, read after the pipeline returned or failed.
private final class PreludeCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func set(_ value: Int) { lock.lock(); count = value; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
