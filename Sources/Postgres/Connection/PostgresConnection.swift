import CLibPQ
import Dispatch
import Logging
import Synchronization

/// One connection to PostgreSQL through libpq.
///
/// ```swift
/// let conn = try await PostgresConnection.connect(try .fromEnvironment())
/// let version = try await conn.fetchOne("SHOW server_version", as: String.self)
/// try await conn.withTransaction { tx in
///     try await tx.execute("UPDATE accounts SET balance = balance - \(amount) WHERE id = \(id)")
/// }
/// await conn.close()
/// ```
///
/// **Concurrency.** Every libpq call that can wait (for the server, or for the socket) runs on the
/// connection's own serial `DispatchQueue`, never on Swift's cooperative thread pool, so waiting
/// blocks only that queue's thread. When the connection is idle, `query` and `pipeline` write their
/// statements from the calling thread first (the socket is non-blocking, so this never waits) and
/// leave only the wait for results to the queue. Operations from concurrent tasks run one after
/// another in the order they were issued. While a transaction is open, only its
/// ``PostgresTransaction`` may send on the connection: other statements are refused, never joined.
///
/// **Round trips.** Each call sends all its statements (with their prepares, the first time) and one
/// Sync in one write: `query` and `pipeline` cost one round trip each.
///
/// **Session state.** Running dynamic SQL text (``PostgresQuery/isDynamic``) or a script marks the
/// connection as tainted (``isTainted``); ``resetSession()`` clears everything a session can keep, and
/// ``PostgresPool`` calls it before leasing a tainted connection again.
///
/// **Cancellation.** Cancelling the calling task sends a real server-side cancel for the running
/// statement; the call throws `CancellationError` and the connection stays usable.
public final class PostgresConnection: PostgresExecutor, @unchecked Sendable {
    // @unchecked: `session` is only touched on `queue`, or by a caller holding `gate` while nothing is
    // queued, or by the pool while it owns the idle connection; the other stored properties are
    // immutable or protected by their own locks.
    private let queue: DispatchQueue
    private let session: Session
    private let canceller: Canceller

    private struct Gate: Sendable {
        /// Operations queued on or running on `queue`. While it is 0 nothing else uses `session`, so a
        /// caller holding the lock may use it from its own thread (see ``performPipeline(_:as:)``).
        var queued = 0
        /// Who may send; asked as each operation starts, under the same lock.
        var ownership = TransactionOwnership()
    }

    private let gate = Mutex(Gate())
    public let logger: Logger
    /// The server process serving this connection (`pg_backend_pid()`).
    public let backendPID: Int32
    /// The server version as an integer, such as 150018.
    public let serverVersion: Int
    /// Where this connection goes (password masked when printed).
    public let configuration: PostgresConfiguration

    private init(session: Session, queue: DispatchQueue, configuration: PostgresConfiguration, logger: Logger) {
        self.session = session
        self.queue = queue
        self.canceller = Canceller(handle: session.makeCancelHandle())
        self.backendPID = session.backendPID
        self.serverVersion = session.serverVersion
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "pg.backend"] = "\(session.backendPID)"
        self.logger = logger
    }

    /// Opens a connection.
    /// - Parameters:
    ///   - statementCacheCapacity: prepared statements kept per connection, least recently used evicted.
    public static func connect(
        _ configuration: PostgresConfiguration,
        statementCacheCapacity: Int = 256,
        logger: Logger = Logger(label: "tenantkit.postgres")
    ) async throws -> PostgresConnection {
        let queue = DispatchQueue(label: "tenantkit.postgres.connection")
        let session: Session = try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    try Session.connect(configuration, cacheCapacity: statementCacheCapacity, logger: logger)
                })
            }
        }
        let connection = PostgresConnection(session: session, queue: queue, configuration: configuration, logger: logger)
        connection.logger.debug("connected", metadata: ["pg.target": "\(configuration)"])
        return connection
    }

    /// Closes the connection. Later calls fail with ``PostgresClientError/Kind/connectionClosed``.
    public func close() async {
        _ = try? await perform(as: nil, cancellable: false) { session, _ in session.close() }
    }

    /// False once the connection is closed or broken.
    public var isUsable: Bool { queue.sync { !session.isBroken && session.pg != nil } }

    /// Round trips made so far (one per `query`, `pipeline` or script call).
    public var roundTrips: Int { queue.sync { session.roundTrips } }

    /// Statements prepared on the server so far; stays put while the statement cache hits.
    public var statementsPrepared: Int { queue.sync { session.preparedCount } }

    /// Prepared statements in the connection's cache now.
    public var statementsCached: Int { queue.sync { session.cachedStatementCount } }

    /// True once the connection has run dynamic SQL text (``PostgresQuery/isDynamic``) or a script
    /// since it was opened or last reset (``resetSession()``). Until then every statement is sent
    /// unnamed rather than from the cache: such text may have replaced a cached statement on the server.
    public var isTainted: Bool { queue.sync { session.isTainted } }

    // MARK: Running statements

    /// Runs one statement: one round trip (the prepare rides along the first time).
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await pipeline([query])[0]
    }

    /// Runs statements in one round trip and returns one result per statement, in order.
    ///
    /// The batch is atomic: if a statement fails, the error names it (`statementIndex`), the later ones
    /// are skipped and, outside a transaction, the earlier ones are rolled back. While a transaction
    /// is open on the connection this fails with ``PostgresClientError/Kind/transactionInProgress``:
    /// use the transaction's handle.
    public func pipeline(_ queries: [PostgresQuery]) async throws -> [PostgresRows] {
        try await pipeline(queries, as: .connection)
    }

    func pipeline(_ queries: [PostgresQuery], as sender: TransactionOwnership.Sender) async throws -> [PostgresRows] {
        guard !queries.isEmpty else { return [] }
        if logger.logLevel <= .debug {
            for query in queries { logger.debug("query", metadata: ["sql": "\(query.sql)", "binds": "\(query.binds)"]) }
        }
        return try await performPipeline(queries, as: sender)
    }

    /// Runs SQL text with the simple query protocol: several statements separated by `;`, no binds.
    /// Meant for migration scripts and DDL; use `query` for anything with values. Marks the
    /// connection as tainted (``isTainted``).
    public func executeScript(unsafeSQL sql: String) async throws {
        try await executeScript(sql, as: .connection)
    }

    func executeScript(_ sql: String, as sender: TransactionOwnership.Sender) async throws {
        logger.debug("script", metadata: ["sql.length": "\(sql.utf8.count)"])
        try await perform(as: sender) { session, first in
            if !first.isEmpty { _ = try session.runPipeline(first, firstReported: first.count) }
            try session.runScript(sql)
        }
    }

    /// Clears everything a session can keep: settings, temporary objects, `LISTEN`s, advisory locks,
    /// prepared statements (the cache too) and cursors (`DISCARD ALL`), in one round trip. The pool
    /// does this for a tainted connection before leasing it again.
    public func resetSession() async throws {
        try await perform(as: .connection, cancellable: false) { session, _ in try session.reset() }
    }

    // MARK: Transactions

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws or the task is
    /// cancelled.
    ///
    /// `body` gets the transaction's handle; until the transaction ends, statements sent on the
    /// connection any other way are refused (``PostgresClientError/Kind/transactionInProgress``).
    /// `BEGIN` and the `prelude` statements (for example `set_config(..., true)` calls) are not sent on
    /// their own: they travel in the same round trip as the body's first statement. If the body
    /// catches a failed statement's error and returns, nothing is committed and this throws
    /// ``PostgresClientError/Kind/transactionAborted``.
    public func withTransaction<T>(
        prelude extra: [PostgresQuery] = [],
        isolation: IsolationLevel = .readCommitted,
        _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        let id = try gate.withLock { gate in try gate.ownership.begin([isolation.begin] + extra) }
        let result: T
        do {
            result = try await body(PostgresTransaction(connection: self, id: id))
        } catch {
            try? await end(id, commit: false)
            throw error
        }
        // Cancelled while the body ran its last statement: the caller gave up, so do not commit.
        if Task.isCancelled {
            try? await end(id, commit: false)
            throw CancellationError()
        }
        try await end(id, commit: true)
        return result
    }

    /// Transaction isolation levels.
    public enum IsolationLevel: Sendable {
        case readCommitted, repeatableRead, serializable

        var begin: PostgresQuery {
            switch self {
            case .readCommitted: "BEGIN"
            case .repeatableRead: "BEGIN ISOLATION LEVEL REPEATABLE READ"
            case .serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE"
            }
        }
    }

    /// Ends transaction `id` with COMMIT or ROLLBACK; sends nothing when its BEGIN was never sent.
    private func end(_ id: TransactionOwnership.ID, commit: Bool) async throws {
        let begun = gate.withLock { $0.ownership.finish(id) }
        defer { gate.withLock { $0.ownership.end(id) } }
        guard begun else { return }
        guard commit else { return await rollback(id) }
        let committed: [PostgresRows]
        do {
            committed = try await perform(as: .ending(id), cancellable: false) { session, _ in try session.runPipeline(["COMMIT"]) }
        } catch {
            await rollback(id)
            throw error
        }
        // The body swallowed a failed statement: the server answers COMMIT with ROLLBACK.
        if committed.first?.commandTag == "ROLLBACK" {
            throw PostgresClientError(
                .transactionAborted, "a statement failed inside the transaction and its error was caught; everything was rolled back")
        }
    }

    private func rollback(_ id: TransactionOwnership.ID) async {
        do {
            _ = try await perform(as: .ending(id), cancellable: false) { session, _ in
                guard session.transactionStatus != PQTRANS_IDLE else { return [PostgresRows]() }
                return try session.runPipeline(["ROLLBACK"])
            }
        } catch {
            logger.warning("rollback failed; closing the connection", metadata: ["error": "\(error)"])
            await close()
        }
    }

    // MARK: Pool support

    /// True when the connection is idle, unused and in no transaction, ready for the next user.
    /// The pool calls this only while it owns the idle connection. Its poll has a zero timeout.
    func isReusable() -> Bool {
        // Something still queued or a transaction still open means a task kept using the connection after handing it back.
        guard gate.withLock({ $0.queued == 0 && !$0.ownership.isOpen }) else { return false }
        // No queue hop: nothing else touches an idle pooled connection, and the resume and actor hop that returned it order its last use before this read.
        return session.checkAliveWhileIdle() && session.transactionStatus == PQTRANS_IDLE
    }

    /// Readies a connection given back to the pool for its next user; false when it must be closed
    /// instead. A tainted connection is reset (one round trip); any other costs nothing.
    func prepareForNextLease() async -> Bool {
        guard isReusable() else { return false }
        // No queue hop, for the reason given in isReusable().
        guard session.isTainted else { return true }
        do {
            try await resetSession()
            return true
        } catch {
            logger.warning("could not reset a connection's session; closing it", metadata: ["error": "\(error)"])
            return false
        }
    }

    // MARK: The queue

    /// Runs `work` on the connection's queue if `sender` may send when it starts (nil: anyone, for
    /// closing). `work` gets the statements that must go first (a transaction's BEGIN and prelude). When
    /// `cancellable`, cancelling the task cancels the operation: before it starts (nothing is sent)
    /// or on the server while it runs.
    private func perform<T: Sendable>(
        as sender: TransactionOwnership.Sender?,
        cancellable: Bool = true,
        _ work: @escaping @Sendable (Session, _ first: [PostgresQuery]) throws -> T
    ) async throws -> T {
        if cancellable { try Task.checkCancellation() }
        let id = canceller.register()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<T, any Error>) in
                gate.withLock { gate in
                    gate.queued += 1
                    enqueue(id, sender, continuation, work)
                }
            }
        } onCancel: { [canceller] in
            guard cancellable else { return }
            // PQcancel blocks while it reaches the server: keep it off the cooperative pool.
            DispatchQueue.global().async { canceller.cancel(id) }
        }
    }

    /// Runs a pipeline like `perform { $0.runPipeline(...) }`, but when the connection is idle it sends
    /// the statements from the calling thread (libpq is in non-blocking mode: sending never waits) and
    /// only then hands the wait for results to the queue, so waking the queue's thread overlaps with
    /// the server's work instead of delaying the send.
    private func performPipeline(_ queries: [PostgresQuery], as sender: TransactionOwnership.Sender) async throws -> [PostgresRows] {
        try Task.checkCancellation()
        // Before anything is queued, so a transaction's BEGIN is never spent on a statement that cannot be sent.
        for query in queries {
            if let error = query.encodingError { throw error }
        }
        let id = canceller.register()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<[PostgresRows], any Error>) in
                // The send runs under this lock, and the receive is queued before it is released, so an
                // operation queued meanwhile cannot get ahead of it; the lock also orders the session's
                // last use on the queue before this thread's use.
                gate.withLock { gate in
                    gate.queued += 1
                    let session = self.session
                    guard gate.queued == 1, let started = canceller.startIfUnlocked(id) else {
                        enqueue(id, sender, continuation) { session, first in
                            try session.runPipeline(first.isEmpty ? queries : first + queries, firstReported: first.count)
                        }
                        return
                    }
                    guard started else {
                        gate.queued -= 1
                        continuation.resume(throwing: CancellationError())
                        return
                    }
                    let sent: Session.SentPipeline
                    do {
                        let first = try gate.ownership.start(sender)
                        sent = try session.sendPipeline(first.isEmpty ? queries : first + queries, firstReported: first.count)
                    } catch {
                        _ = canceller.finish(id)
                        gate.queued -= 1
                        continuation.resume(throwing: error)
                        return
                    }
                    queue.async { [self] in
                        complete(id, continuation, Result { try session.receivePipeline(sent) })
                    }
                }
            }
        } onCancel: { [canceller] in
            // PQcancel blocks while it reaches the server: keep it off the cooperative pool.
            DispatchQueue.global().async { canceller.cancel(id) }
        }
    }

    /// Queues operation `id` of `sender` on the connection's queue; the caller has counted it in `gate`.
    private func enqueue<T: Sendable>(
        _ id: UInt64,
        _ sender: TransactionOwnership.Sender?,
        _ continuation: UnsafeContinuation<T, any Error>,
        _ work: @escaping @Sendable (Session, _ first: [PostgresQuery]) throws -> T
    ) {
        queue.async { [self] in
            guard canceller.start(id) else {
                gate.withLock { $0.queued -= 1 }
                continuation.resume(throwing: CancellationError())
                return
            }
            complete(id, continuation, Result {
                let first = try gate.withLock { gate in try sender.map { try gate.ownership.start($0) } ?? [] }
                return try work(session, first)
            })
        }
    }

    /// Ends operation `id` on the queue: uncounts it and resumes its caller. A statement the server
    /// cancelled because the task asked for it reports `CancellationError`.
    private func complete<T: Sendable>(_ id: UInt64, _ continuation: UnsafeContinuation<T, any Error>, _ result: Result<T, any Error>) {
        let cancelled = canceller.finish(id)
        gate.withLock { $0.queued -= 1 }
        if cancelled, case .failure(let error as PostgresError) = result, error.code == .queryCanceled {
            continuation.resume(throwing: CancellationError())
        } else {
            continuation.resume(with: result)
        }
    }
}
