import Foundation
import TenantKitPostgres
import Synchronization

/// One organization and the actor working in it: the context every tenant statement runs under.
///
/// A single statement is one transaction on one pooled connection, and one round trip: the
/// context statement of its ``TenantContext`` and the statement go in the same libpq pipeline,
/// ended by one Sync that commits. Several statements use ``transaction(isolation:_:)``. The
/// context is transaction-local, so nothing of it stays on the connection afterwards, whether the
/// work commits, fails or is cancelled.
///
/// ```swift
/// let scope = OrgScope(orgID: orgID, actor: .user(userID), context: signedContext, on: pool)
///
/// let runs = RunsTable.table
/// let failed = try await scope.fetchAll(
///     Select.from(runs).where(runs.status == "failed").orderBy(runs.createdAt.desc).limit(10),
///     as: Run.self)
///
/// // Raw SQL runs under RLS with the same context:
/// let n = try await scope.fetchOne("SELECT count(*) FROM runs", as: Int.self)
///
/// try await scope.transaction { tx in
///     let balance = try await tx.fetchOne(Select.from(accounts).columns(accounts.balance), as: Int64.self)
///     try await tx.execute(Insert.into(ledger).values(ledger.amount.set(-5), ...))
/// }
/// ```
public struct OrgScope: StatementExecutor {
    /// Who acts in the organization; recorded by the audit log and by row defaults (`runs.user_id`).
    public enum Actor: Sendable, Hashable {
        /// A signed-in user.
        case user(UUID)
        /// An API key (pinned to the organization it was issued for), with the SHA-256 of the key
        /// as presented: the database checks it against the stored hash on every statement.
        case apiKey(UUID, presentedHash: [UInt8])
        /// A platform operator (support staff, billing): may grant credits, from an operator's
        /// own database login only.
        case platformOperator(UUID)
    }

    /// The organization every tenant table is scoped to.
    public let orgID: UUID
    /// Who acts: named in the context the database verifies and in the audit log.
    public let actor: Actor
    /// What establishes the context in the database.
    public let context: any TenantContext
    let host: any OrgScopeHost
    /// Where each unit of work's time and statements are charged to ``orgID``; nil records nothing.
    public let usage: OrgUsage?

    /// A scope on a pool (each unit of work leases a connection) or on one connection.
    /// - Parameters:
    ///   - orgID: the organization every tenant table is scoped to.
    ///   - actor: who acts (a user, an API key, a platform operator), named in the context and the audit log.
    ///   - context: what establishes the context in the database with each unit of work.
    ///   - host: a pool or a connection.
    ///   - usage: charged with each pipeline and transaction of the scope (see ``OrgUsage``).
    public init(orgID: UUID, actor: Actor, context: some TenantContext, on host: some OrgScopeHost, usage: OrgUsage? = nil) {
        self.orgID = orgID
        self.actor = actor
        self.context = context
        self.host = host
        self.usage = usage
    }

    /// The context statement for the connection served by `backendPID`.
    public func contextStatement(backendPID: Int32) throws -> PostgresQuery {
        try context.statement(orgID: orgID, actor: actor, backendPID: backendPID)
    }

    /// Every statement that sets the context for the connection served by `backendPID`, in order.
    public func contextStatements(backendPID: Int32) throws -> [PostgresQuery] {
        try context.statements(orgID: orgID, actor: actor, backendPID: backendPID)
    }

    public func render(_ statement: some Statement) throws -> PostgresQuery {
        try SQLRenderer.render(statement, mode: .scoped(orgID))
    }

    /// Runs one statement in the scope: one round trip, its own transaction.
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await pipeline([query])[0]
    }

    /// Runs statements in the scope, in one round trip and one transaction; one result per statement.
    public func pipeline(_ queries: [PostgresQuery]) async throws -> [PostgresRows] {
        guard !queries.isEmpty else { return [] }
        // No BEGIN: a pipeline up to its Sync is one implicit transaction, which the Sync commits
        // (or rolls back on error), ending the transaction-local context with it.
        let scope = self
        return try await charged(statements: { queries.count }) {
            try await host.run(queries, after: { try scope.contextStatements(backendPID: $0) },
                               inTransactionBlock: scope.context.requiresTransactionBlock)
        }
    }

    /// Runs one unit of work, charging its time and statements to ``usage`` whether it succeeds or fails.
    private func charged<T>(statements: () -> Int, _ work: () async throws -> T) async throws -> T {
        guard let usage else { return try await work() }
        let start = ContinuousClock.now
        do {
            let result = try await work()
            usage.record(orgID: orgID, statements: statements(), duration: ContinuousClock.now - start, failed: false)
            return result
        } catch {
            usage.record(orgID: orgID, statements: statements(), duration: ContinuousClock.now - start, failed: true)
            throw error
        }
    }

    /// Runs builder statements in one round trip and one transaction.
    public func pipeline(_ statements: [any Statement]) async throws -> [PostgresRows] {
        try await pipeline(statements.map { try render($0) })
    }

    /// Runs `body` in one transaction on one connection with the context set: commits when it
    /// returns, rolls back when it throws or is cancelled. `BEGIN` and the context travel with the
    /// body's first statement.
    public func transaction<T: Sendable>(
        isolation: PostgresConnection.IsolationLevel = .readCommitted,
        _ body: @Sendable (ScopedTransaction) async throws -> T
    ) async throws -> T {
        let scope = self
        let tally = usage.map { _ in StatementTally() }
        return try await charged(statements: { tally?.count ?? 0 }) {
            try await host.withScopedTransaction(
                prelude: { try scope.contextStatements(backendPID: $0) }, isolation: isolation
            ) { transaction in
                try await body(ScopedTransaction(scope: scope, connection: transaction, tally: tally))
            }
        }
    }
}

/// The statements of one ``OrgScope/transaction(isolation:_:)``, all on one connection with the
/// context set. Builder statements are scoped to the scope's org; raw SQL runs under RLS.
public struct ScopedTransaction: StatementExecutor {
    /// The scope this transaction belongs to.
    public let scope: OrgScope
    /// The driver's transaction handle, for its own verbs (the only way to send on the connection
    /// while the transaction is open).
    public let connection: PostgresTransaction
    /// Counts the statements sent, when the scope records usage.
    let tally: StatementTally?

    init(scope: OrgScope, connection: PostgresTransaction, tally: StatementTally?) {
        self.scope = scope
        self.connection = connection
        self.tally = tally
    }

    public func render(_ statement: some Statement) throws -> PostgresQuery {
        try scope.render(statement)
    }

    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        tally?.add(1)
        return try await connection.query(query)
    }

    public func pipeline(_ queries: [PostgresQuery]) async throws -> [PostgresRows] {
        tally?.add(queries.count)
        return try await connection.pipeline(queries)
    }

    /// Runs builder statements in one round trip.
    public func pipeline(_ statements: [any Statement]) async throws -> [PostgresRows] {
        try await pipeline(statements.map { try render($0) })
    }
}

/// The statements a ``ScopedTransaction`` sent, for ``OrgUsage``; its body may run them from child tasks.
final class StatementTally: Sendable {
    private let sent = Atomic<Int>(0)
    var count: Int { sent.load(ordering: .relaxed) }
    func add(_ statements: Int) { sent.add(statements, ordering: .relaxed) }
}
