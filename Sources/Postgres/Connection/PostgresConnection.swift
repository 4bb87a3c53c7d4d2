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
/// another in the order they were issued. A transaction assumes one task uses the connection at a
/// time; the pool guarantees that.
///
/// **Round trips.** Each call sends all its statements (with their prepares, the first time) and one
/// Sync in one write: `query` and `pipeline` cost one round trip each.
///
/// **Cancellation.** Cancelling the calling task sends a real server-side cancel for the running
/// statement; the call throws `CancellationError` and the connection stays usable.
public final class PostgresConnection: PostgresExecutor, @unchecked Sendable {
    // @unchecked: `session` is only touched on `queue`, or by a caller holding `queuedWork` while it
    // is 0 (nothing queued), or by the pool while it owns the idle connection; the other stored
    // properties are immutable or protected by their own locks.
    private let queue: DispatchQueue
    private let session: Session
    private let canceller: Canceller
    /// Operations queued on or running on `queue`. While it is 0 nothing else uses `session`, so a
    /// caller holding this lock may use it from its own thread (see ``performPipeline(_:firstReported:)``).
    private let queuedWork = Mutex(0)
    private let prelude = Mutex<[PostgresQuery]>([])
    private let transactionDepth = Mutex(0)
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
        _ = try? await perform(cancellable: false) { session in session.close() }
    }

    /// False once the connection is closed or broken.
    public var isUsable: Bool { queue.sync { !session.isBroken && session.pg != nil } }

    /// Round trips made so far (one per `query`, `pipeline` or script call).
    public var roundTrips: Int { queue.sync { session.roundTrips } }

    /// Statements prepared on the server so far; stays put while the statement cache hits.
    public var statementsPrepared: Int { queue.sync { session.preparedCount } }

    // MARK: Running statements

    /// Runs one statement: one round trip (the prepare rides along the first time).
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await pipeline([query])[0]
    }

    /// Runs statements in one round trip and returns one result per statement, in order.
    ///
    /// The batch is atomic: if a statement fails, the error names it (`statementIndex`), the later ones
    /// are skipped and, outside a transaction, the earlier ones are rolled back.
    public func pipeline(_ queries: [PostgresQuery]) async throws -> [PostgresRows] {
        guard !queries.isEmpty else { return [] }
        let prelude = takePrelude()
        if logger.logLevel <= .debug {
            for query in prelude + queries { logger.debug("query", metadata: ["sql": "\(query.sql)", "binds": "\(query.binds)"]) }
        }
        do {
            return try await performPipeline(prelude + queries, firstReported: prelude.count)
        } catch {
            // Cancelled before anything reached the server: the transaction has not begun, so keep
            // its prelude for the rollback path to see (and skip). Once BEGIN ran, the server is in a
            // failed transaction and the prelude must not be sent again.
            if error is CancellationError, !prelude.isEmpty, queue.sync(execute: { session.transactionStatus == PQTRANS_IDLE }) {
                restorePrelude(prelude)
            }
            throw error
        }
    }

    /// Runs SQL text with the simple query protocol: several statements separated by `;`, no binds.
    /// Meant for migration scripts and DDL; use `query` for anything with values.
    public func executeScript(unsafeSQL sql: String) async throws {
        logger.debug("script", metadata: ["sql.length": "\(sql.utf8.count)"])
        let prelude = takePrelude()
        if !prelude.isEmpty { _ = try await perform { session in try session.runPipeline(prelude, firstReported: prelude.count) } }
        try await perform { session in try session.runScript(sql) }
    }

    // MARK: Transactions

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws or the task is
    /// cancelled.
    ///
    /// `BEGIN` and the `prelude` statements (for example `set_config(..., true)` calls) are not sent on
    /// their own: they travel in the same round trip as the body's first statement.
    public func withTransaction<T>(
        prelude extra: [PostgresQuery] = [],
        isolation: IsolationLevel = .readCommitted,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let nested = transactionDepth.withLock { depth in
            depth += 1
            return depth > 1
        }
        defer { transactionDepth.withLock { $0 -= 1 } }
        guard !nested else {
            throw PostgresClientError(.protocolError, "withTransaction called inside a transaction on the same connection")
        }
        let begin: PostgresQuery = isolation == .readCommitted
            ? "BEGIN" : PostgresQuery(unsafeSQL: "BEGIN ISOLATION LEVEL \(isolation.sql)")
        prelude.withLock { $0 = [begin] + extra }
        let result: T
        do {
            result = try await body(self)
        } catch {
            await rollbackAfterFailure()
            throw error
        }
        // Cancelled while the body ran its last statement: the caller gave up, so do not commit.
        if Task.isCancelled {
            await rollbackAfterFailure()
            throw CancellationError()
        }
        if takePrelude().isEmpty {
            let committed: [PostgresRows]
            do {
                committed = try await perform(cancellable: false) { session in try session.runPipeline(["COMMIT"]) }
            } catch {
                await rollbackAfterFailure()
                throw error
            }
            // The body swallowed a failed statement: the server answers COMMIT with ROLLBACK.
            if committed.first?.commandTag == "ROLLBACK" {
                throw PostgresClientError(
                    .transactionAborted, "a statement failed inside the transaction and its error was caught; everything was rolled back")
            }
        }
        return result
    }

    /// Transaction isolation levels.
    public enum IsolationLevel: Sendable {
        case readCommitted, repeatableRead, serializable
        var sql: String {
            switch self {
            case .readCommitted: "READ COMMITTED"
            case .repeatableRead: "REPEATABLE READ"
            case .serializable: "SERIALIZABLE"
            }
        }
    }

    private func rollbackAfterFailure() async {
        // Nothing was sent yet: there is no transaction to roll back.
        guard takePrelude().isEmpty else { return }
        do {
            _ = try await perform(cancellable: false) { session in
                guard session.transactionStatus != PQTRANS_IDLE else { return [PostgresRows]() }
                return try session.runPipeline(["ROLLBACK"])
            }
        } catch {
            logger.warning("rollback failed; closing the connection", metadata: ["error": "\(error)"])
            await close()
        }
    }

    private func takePrelude() -> [PostgresQuery] {
        prelude.withLock { value in
            defer { value = [] }
            return value
        }
    }

    private func restorePrelude(_ statements: [PostgresQuery]) {
        prelude.withLock { $0 = statements + $0 }
    }

    // MARK: Pool support

    /// True when the connection is idle and in no transaction, ready for the next user.
    /// The pool calls this only while it owns the idle connection. Its poll has a zero timeout.
    func isReusable() -> Bool {
        // No queue hop: nothing else touches an idle pooled connection, and the resume and actor hop that returned it order its last use before this read.
        session.checkAliveWhileIdle() && session.transactionStatus == PQTRANS_IDLE
    }

    // MARK: The queue

    /// Runs `work` on the connection's queue. When `cancellable`, cancelling the task cancels the
    /// operation: before it starts (nothing is sent) or on the server while it runs.
    private func perform<T: Sendable>(
        cancellable: Bool = true,
        _ work: @escaping @Sendable (Session) throws -> T
    ) async throws -> T {
        if cancellable { try Task.checkCancellation() }
        let id = canceller.register()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<T, any Error>) in
                queuedWork.withLock { count in
                    count += 1
                    enqueue(id, continuation) { session in try work(session) }
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
    private func performPipeline(_ queries: [PostgresQuery], firstReported: Int) async throws -> [PostgresRows] {
        try Task.checkCancellation()
        let id = canceller.register()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<[PostgresRows], any Error>) in
                // The send runs under this lock, and the receive is queued before it is released, so an
                // operation queued meanwhile cannot get ahead of it; the lock also orders the session's
                // last use on the queue before this thread's use.
                queuedWork.withLock { count in
                    count += 1
                    let session = self.session
                    guard count == 1, let started = canceller.startIfUnlocked(id) else {
                        enqueue(id, continuation) { session in try session.runPipeline(queries, firstReported: firstReported) }
                        return
                    }
                    guard started else {
                        count -= 1
                        continuation.resume(throwing: CancellationError())
                        return
                    }
                    let sent: Session.SentPipeline
                    do {
                        sent = try session.sendPipeline(queries, firstReported: firstReported)
                    } catch {
                        _ = canceller.finish(id)
                        count -= 1
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

    /// Queues operation `id` on the connection's queue; the caller has counted it in `queuedWork`.
    private func enqueue<T: Sendable>(
        _ id: UInt64, _ continuation: UnsafeContinuation<T, any Error>, _ work: @escaping @Sendable (Session) throws -> T
    ) {
        queue.async { [self] in
            guard canceller.start(id) else {
                queuedWork.withLock { $0 -= 1 }
                continuation.resume(throwing: CancellationError())
                return
            }
            complete(id, continuation, Result { try work(session) })
        }
    }

    /// Ends operation `id` on the queue: uncounts it and resumes its caller. A statement the server
    /// cancelled because the task asked for it reports `CancellationError`.
    private func complete<T: Sendable>(_ id: UInt64, _ continuation: UnsafeContinuation<T, any Error>, _ result: Result<T, any Error>) {
        let cancelled = canceller.finish(id)
        queuedWork.withLock { $0 -= 1 }
        if cancelled, case .failure(let error as PostgresError) = result, error.code == .queryCanceled {
            continuation.resume(throwing: CancellationError())
        } else {
            continuation.resume(with: result)
        }
    }
}
