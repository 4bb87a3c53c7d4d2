import CLibPQ
import Dispatch
import Foundation
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
/// **Concurrency.** Nothing blocks a thread while waiting for the server. A call sends its statements
/// from the calling thread (libpq is in non-blocking mode: sending never waits); the connection's
/// ``eventLoop`` then waits for the socket with epoll, reads the results as they arrive and resumes
/// the caller. A task that prefers that loop as its executor (``PostgresPool/withConnection(_:)``
/// and transactions arrange it) runs all of this on the loop's one thread; any other caller is
/// resumed on its own executor. Operations from concurrent tasks run one after another in the order
/// they were issued. While a transaction is open, only its ``PostgresTransaction`` may send on the
/// connection: other statements are refused, never joined.
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
public final class PostgresConnection: PostgresExecutor, Sendable {
    private let session: LibpqConnection
    private let cancelRequest: CancelRequest
    private let gate = Mutex(Gate())
    /// The connection's socket on its loop; nil once closed.
    private let socket: Mutex<PostgresEventLoop.Socket?>

    /// The loop that waits on this connection's socket; prefer it as a task executor to run a
    /// round trip without a thread hand-off.
    public let eventLoop: PostgresEventLoop
    public let logger: Logger
    /// The server process serving this connection (`pg_backend_pid()`).
    public let backendPID: Int32
    /// The server version as an integer, such as 150018.
    public let serverVersion: Int
    /// Where this connection goes (password masked when printed).
    public let configuration: PostgresConfiguration

    private init(session: LibpqConnection, eventLoop: PostgresEventLoop, configuration: PostgresConfiguration, logger: Logger) throws {
        self.session = session
        self.eventLoop = eventLoop
        self.cancelRequest = CancelRequest(session.makeCancelHandle())
        self.backendPID = session.backendPID
        self.serverVersion = session.serverVersion
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "pg.backend"] = "\(session.backendPID)"
        self.logger = logger
        self.socket = Mutex(nil)
        gate.withLock { $0.stats = Stats(session) }
        // The handler holds the connection weakly: the loop keeps the socket, not the connection, alive.
        let registered = eventLoop.register(fd: session.socket) { [weak self] readable, _ in self?.socketReady(readable: readable) }
        guard let registered else {
            throw PostgresClientError(.connectionFailed, "cannot watch the connection's socket (errno \(errno))")
        }
        socket.withLock { $0 = registered }
    }

    deinit {
        // Before the session closes its descriptor, whose number may be reused at once.
        stopWatchingSocket()
    }

    /// Opens a connection.
    /// - Parameters:
    ///   - configuration: where and as whom to connect (libpq keywords).
    ///   - statementCacheCapacity: prepared statements kept per connection, least recently used evicted.
    ///   - eventLoop: the loop that waits on the connection; by default the next loop of
    ///     ``PostgresEventLoopGroup/shared`` in turn.
    ///   - logger: where the connection's and its statements' log lines go (bind values redacted).
    public static func connect(
        _ configuration: PostgresConfiguration,
        statementCacheCapacity: Int = 256,
        logger: Logger = Logger(label: "tenantkit.postgres"),
        eventLoop: PostgresEventLoop? = nil
    ) async throws -> PostgresConnection {
        // In turn, not the caller's loop: connections opened from a loop would otherwise pile up on it,
        // and with them every body that prefers their loop.
        let loop = eventLoop ?? PostgresEventLoopGroup.shared.next()
        let timeout = try configuration.connectTimeoutSeconds()
        let start: @Sendable () throws -> LibpqConnection = { try LibpqConnection.startConnecting(configuration, cacheCapacity: statementCacheCapacity, logger: logger) }
        // Starting resolves the first host name, which blocks: then keep it off the loops and Swift's cooperative pool.
        let started: LibpqConnection = configuration.needsNameLookup()
            ? try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(with: Result { try start() }) }
            }
            : try start()
        let session = try await ConnectAttempt.connect(started, on: loop, timeoutSeconds: timeout)
        let connection = try PostgresConnection(session: session, eventLoop: loop, configuration: configuration, logger: logger)
        connection.logger.debug("connected", metadata: ["pg.target": "\(configuration)"])
        return connection
    }

    /// Closes the connection. Later calls fail with ``PostgresClientError/Kind/connectionClosed``.
    public func close() async {
        _ = try? await perform(as: nil, cancellable: false, .close)
    }

    // These read the figures as the last finished operation left them (an operation still running
    // has not counted yet).

    /// False once the connection is closed or broken.
    public var isUsable: Bool { gate.withLock { $0.stats.usable } }

    /// Round trips made so far (one per `query`, `pipeline` or script call).
    public var roundTrips: Int { gate.withLock { $0.stats.roundTrips } }

    /// Statements prepared on the server so far; stays put while the statement cache hits.
    public var statementsPrepared: Int { gate.withLock { $0.stats.prepared } }

    /// Prepared statements in the connection's cache now.
    public var statementsCached: Int { gate.withLock { $0.stats.cached } }

    /// True once the connection has run dynamic SQL text (``PostgresQuery/isDynamic``) or a script
    /// since it was opened or last reset (``resetSession()``). Until then every statement is sent
    /// unnamed rather than from the cache: such text may have replaced a cached statement on the server.
    public var isTainted: Bool { gate.withLock { $0.stats.tainted } }

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
        let logger = StatementLogger.current(self.logger)
        if logger.logLevel <= .debug {
            // The binds print redacted; kept as the value itself so a test's log handler can re-run the statement.
            for query in queries { logger.debug("query", metadata: ["sql": "\(query.sql)", "binds": .stringConvertible(query.binds)]) }
        }
        return try await configuration.statementInstruments.observe(queries) { try await performPipeline(queries, as: sender) }
    }

    /// Runs SQL text with the simple query protocol: several statements separated by `;`, no binds.
    /// Meant for migration scripts and DDL; use `query` for anything with values. Marks the
    /// connection as tainted (``isTainted``).
    public func executeScript(unsafeSQL sql: String) async throws {
        try await executeScript(sql, as: .connection)
    }

    func executeScript(_ sql: String, as sender: TransactionOwnership.Sender) async throws {
        StatementLogger.current(logger).debug("script", metadata: ["sql.length": "\(sql.utf8.count)"])
        _ = try await configuration.statementInstruments.observe(operation: "SCRIPT") { try await perform(as: sender, .script(sql)) }
    }

    /// Clears everything a session can keep: settings, temporary objects, `LISTEN`s, advisory locks,
    /// prepared statements (the cache too) and cursors (`DISCARD ALL`), in one round trip. The pool
    /// does this for a tainted connection before leasing it again.
    public func resetSession() async throws {
        _ = try await configuration.statementInstruments.observe(operation: "DISCARD") { try await perform(as: .connection, cancellable: false, .reset) }
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
        let id = try gate.withLock { gate in try gate.state.beginTransaction([isolation.begin] + extra) }
        // At least two round trips (the body's and COMMIT's): on the connection's loop they need no thread hand-off.
        return try await withTaskExecutorPreference(eventLoop) {
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
        let begun = gate.withLock { $0.state.finishTransaction(id) }
        defer { gate.withLock { $0.state.endTransaction(id) } }
        guard begun else { return }
        guard commit else { return await rollback(id) }
        let committed: [PostgresRows]
        do {
            committed = try await perform(as: .ending(id), cancellable: false, .pipeline(["COMMIT"]))
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
            _ = try await perform(as: .ending(id), cancellable: false, .rollback)
        } catch {
            // A connection that broke has nothing left to roll back: the server rolled back as it went.
            if isUsable { StatementLogger.current(logger).warning("rollback failed; closing the connection", metadata: ["error": "\(error)"]) }
            await close()
        }
    }

    // MARK: Pool support

    /// True when the connection is idle, unused and in no transaction, ready for the next user.
    /// The pool calls this only while it owns the idle connection. Its poll has a zero timeout.
    func isReusable() -> Bool {
        gate.withLock { gate in
            // Something still running or queued, or a transaction still open, means a task kept using
            // the connection after handing it back.
            guard gate.state.isFreeForNextUser else { return false }
            // No call runs (a cancel request in flight uses its own connection), so the session is
            // this lock holder's: nothing can start while it is held.
            let alive = session.checkAliveWhileIdle() && session.transactionStatus == PQTRANS_IDLE
            if !alive {
                closeSession()
                gate.state.lost(PostgresClientError(.connectionClosed, "the connection to the server was lost while idle"))
            }
            gate.stats = Stats(session)
            return alive
        }
    }

    /// Readies a connection given back to the pool for its next user; false when it must be closed
    /// instead. A tainted connection is reset (one round trip) or, unless `resettingTaint`, closed;
    /// any other costs nothing.
    func prepareForNextLease(resettingTaint: Bool = true) async -> Bool {
        guard isReusable() else { return false }
        guard isTainted else { return true }
        guard resettingTaint else { return false }
        do {
            try await resetSession()
            return true
        } catch {
            StatementLogger.current(logger).warning("could not reset a connection's session; closing it", metadata: ["error": "\(error)"])
            return false
        }
    }

    // MARK: Operations

    /// What an operation does once it holds the session.
    private enum Work: Sendable {
        case pipeline([PostgresQuery])
        case script(String)
        case reset
        /// ROLLBACK, unless the server already left the transaction.
        case rollback
        case close
    }

    /// A call as the state machine carries it: its work and whom to resume.
    private struct Call: Sendable {
        let work: Work
        let continuation: UnsafeContinuation<[PostgresRows], any Error>
    }

    /// A read in progress: the results of one pipeline or simple query, and what follows it.
    private enum Reading: Sendable {
        case pipeline(PipelineReader, thenScript: String?)
        case simple(SimpleQueryReader, isReset: Bool)

        var needsFlush: Bool {
            switch self {
            case .pipeline(let reader, _): reader.needsFlush
            case .simple(let reader, _): reader.needsFlush
            }
        }
    }

    private typealias State = ConnectionState<Call, Reading>

    /// The figures the public properties report, copied from the session as each operation ends.
    private struct Stats: Sendable {
        var usable = true, roundTrips = 0, prepared = 0, cached = 0, tainted = false
        init() {}
        init(_ session: LibpqConnection) {
            usable = !session.isBroken && session.pg != nil
            roundTrips = session.roundTrips
            prepared = session.preparedCount
            cached = session.cachedStatementCount
            tainted = session.isTainted
        }
    }

    /// The state machine and the figures, under one lock. The session belongs to whoever the state
    /// machine says: the thread that got a ``ConnectionState/Step/start(_:first:)`` until it reports
    /// back, the loop while it holds the taken reader, or this lock's holder while the phase is idle.
    private struct Gate: Sendable {
        var state = State()
        var stats = Stats()
    }

    /// Runs `work` when its turn comes if `sender` may send then (nil: anyone, for closing). When
    /// `cancellable`, cancelling the task cancels the operation: before it starts (nothing is sent)
    /// or on the server while it runs. When the connection is idle, the statements are sent from the
    /// calling thread before this suspends.
    private func perform(
        as sender: TransactionOwnership.Sender?, cancellable: Bool = true, _ work: Work
    ) async throws -> [PostgresRows] {
        if cancellable { try Task.checkCancellation() }
        let id = gate.withLock { $0.state.register() }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<[PostgresRows], any Error>) in
                let call = Call(work: work, continuation: continuation)
                if let step = gate.withLock({ $0.state.enqueue(id, sender: sender, call) }) { run(step) }
            }
        } onCancel: {
            guard cancellable else { return }
            switch gate.withLock({ $0.state.cancel(id) }) {
            case .none: break
            case .finish(let call): call.continuation.resume(throwing: CancellationError())
            case .sendCancelRequest: sendCancelRequest()
            }
        }
    }

    /// Sends a pipeline (see ``perform(as:cancellable:_:)``).
    private func performPipeline(_ queries: [PostgresQuery], as sender: TransactionOwnership.Sender) async throws -> [PostgresRows] {
        try Task.checkCancellation()
        // Before anything is queued, so a transaction's BEGIN is never spent on a statement that cannot be sent.
        for query in queries {
            if let error = query.encodingError { throw error }
        }
        return try await perform(as: sender, .pipeline(queries))
    }

    /// Carries out `first` and each step that follows at once (calls refused, cancelled, failed to
    /// send), until one call is left reading on the loop or none waits. Runs on whichever thread the
    /// state machine handed the turn to: the caller's, the loop's after a read ended, or the thread
    /// that delivered a cancel request.
    private func run(_ first: State.Step) {
        var next: State.Step? = first
        while let step = next {
            switch step {
            case .finish(let call, let result):
                call.continuation.resume(with: result)
                next = gate.withLock { $0.state.next() }
            case .start(let operation, let first):
                next = start(operation.call.work, first: first)
            }
        }
    }

    /// Sends `work`, `first` (a transaction's BEGIN and prelude) ahead of it; returns the step that
    /// follows when it ended at once.
    private func start(_ work: Work, first: [PostgresQuery]) -> State.Step? {
        let reading: Reading
        do {
            switch work {
            case .pipeline(let queries):
                reading = .pipeline(
                    PipelineReader(try session.sendPipeline(first.isEmpty ? queries : first + queries, firstReported: first.count)),
                    thenScript: nil)
            case .script(let sql):
                reading = first.isEmpty
                    ? .simple(try session.startScript(sql), isReset: false)
                    : .pipeline(PipelineReader(try session.sendPipeline(first, firstReported: first.count)), thenScript: sql)
            case .reset:
                reading = .simple(try session.startReset(), isReset: true)
            case .rollback:
                guard session.transactionStatus != PQTRANS_IDLE else { return finish(.success([])) }
                reading = .pipeline(PipelineReader(try session.sendPipeline(["ROLLBACK"])), thenScript: nil)
            case .close:
                closeSession()
                let (call, next) = gate.withLock { gate in
                    gate.stats = Stats(session)
                    return gate.state.closed()
                }
                call.continuation.resume(returning: [])
                return next
            }
        } catch {
            return finish(.failure(error))
        }
        return leaveToLoop(reading, sent: true)
    }

    /// Leaves `reading` to the loop: stores it in the state machine, then arms the socket. From then
    /// on this thread must not touch the session. Returns the step that follows if arming failed.
    private func leaveToLoop(_ reading: Reading, sent: Bool) -> State.Step? {
        let cancelRequested = gate.withLock { gate in
            if sent { return gate.state.sent(reading) }
            gate.state.keepReading(reading)
            return false
        }
        if cancelRequested { sendCancelRequest() }
        let armed = socket.withLock { socket in socket.map { eventLoop.arm($0, writable: reading.needsFlush) } ?? false }
        if armed { return nil }
        // Not armed, so no event can come: the reader is still this thread's.
        _ = gate.withLock { $0.state.takeReading() }
        return finish(.failure(PostgresClientError(.connectionClosed, "the connection's socket cannot be watched (errno \(errno))")))
    }

    /// The loop's callback: the armed socket is ready. Reads what arrived; re-arms, or ends the
    /// operation and starts the next.
    private func socketReady(readable: Bool) {
        guard let (_, reading) = gate.withLock({ $0.state.takeReading() }) else { return }  // nothing armed: stale
        let next: State.Step?
        do {
            switch try advance(reading, mayRead: readable) {
            case .done(let rows): next = finish(.success(rows))
            case .wait(let reading): next = leaveToLoop(reading, sent: false)
            }
        } catch {
            next = finish(.failure(error))
        }
        if let next { run(next) }
    }

    private enum Progress {
        case done([PostgresRows])
        case wait(Reading)
    }

    /// Reads what arrived for `reading`, and starts what follows it (a script after a transaction's BEGIN).
    private func advance(_ reading: Reading, mayRead: Bool) throws -> Progress {
        var mayRead = mayRead
        var reading = reading
        while true {
            switch reading {
            case .pipeline(var reader, let script):
                guard let rows = try session.advance(&reader, mayRead: mayRead) else {
                    return .wait(.pipeline(reader, thenScript: script))
                }
                guard let script else { return .done(rows) }
                reading = .simple(try session.startScript(script), isReset: false)
                mayRead = false
            case .simple(var reader, let isReset):
                guard try session.advance(&reader, mayRead: mayRead) else { return .wait(.simple(reader, isReset: isReset)) }
                if isReset { session.finishReset() }
                return .done([])
            }
        }
    }

    /// Ends the running operation with `result`: closes a session that broke, publishes its figures,
    /// resumes the caller and returns the step that follows, for the caller to carry out.
    private func finish(_ result: Result<[PostgresRows], any Error>) -> State.Step? {
        let broken = session.isBroken
        if broken { closeSession() }
        let (call, result, next) = gate.withLock { gate in
            gate.stats = Stats(session)
            return gate.state.finish(result, connectionBroken: broken)
        }
        call.continuation.resume(with: result)
        return next
    }

    /// Asks the server to cancel the running statement, off the loops and the cooperative pool
    /// (`PQcancel` blocks until the server has the request), then lets the next call start.
    private func sendCancelRequest() {
        DispatchQueue.global().async { [self] in
            cancelRequest.send()
            if let next = gate.withLock({ $0.state.cancelDelivered() }) { run(next) }
        }
    }

    /// Takes the socket off the loop, then closes the libpq session; once.
    private func closeSession() {
        stopWatchingSocket()
        session.close()
    }

    /// Takes the socket off the loop, once. Its descriptor must still be open unless libpq closed it.
    private func stopWatchingSocket() {
        guard let registered = socket.withLock({ $0.take() }) else { return }
        eventLoop.deregister(registered, stillOpen: session.socket == registered.fd)
    }
}
