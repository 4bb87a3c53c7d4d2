import Logging

/// A pool of connections with a size limit and a wait timeout.
///
/// ```swift
/// let pool = PostgresPool(configuration: try .fromEnvironment(), maxConnections: 8)
/// let names = try await pool.fetchAll("SELECT name FROM organizations", as: String.self)
/// try await pool.withTransaction { tx in ... }
/// await pool.close()
/// ```
///
/// A connection is checked before it is handed out: one the server closed while it sat idle (a
/// terminated backend, a restarted server) is dropped and replaced, so callers do not see it. A
/// connection that breaks or is left inside a transaction is closed when it comes back.
///
/// **No session state survives a lease.** A connection that ran dynamic SQL text or a script
/// (``PostgresConnection/isTainted``) is reset with `DISCARD ALL` and its statement cache cleared
/// when it comes back, before anyone else can lease it (one round trip; if that fails, it is closed).
/// A connection that ran only static statements goes back as it is, at no cost. On a Citus
/// coordinator make the pool with `taintedConnections: .close`: `DISCARD ALL` does not reach the
/// coordinator's own connections to the workers, which end only with its backend.
///
/// **Observability.** The pool reports gauges of its connections and waiters, lease wait times,
/// timeouts and closed connections, and each pipeline's duration, errors and span, to the metrics
/// factory and tracer of its ``observability`` (by default those the application bootstrapped).
///
/// **Shutting down.** ``drain(timeout:)`` refuses new leases, waits for the leased connections to
/// come back and closes them; ``close()`` does not wait.
public actor PostgresPool: PostgresExecutor {
    public let configuration: PostgresConfiguration
    public let acquireTimeout: Duration
    public let statementCacheCapacity: Int
    /// What becomes of a connection that ran dynamic SQL or a script when it comes back.
    public nonisolated let taintedConnections: TaintedConnections
    /// The most connections open at once.
    public nonisolated let maxConnections: Int
    public nonisolated let logger: Logger
    /// The loops the pool's connections are spread over.
    public nonisolated let eventLoopGroup: PostgresEventLoopGroup
    /// The pool's name and where its metrics and spans go.
    public nonisolated let observability: PostgresObservability
    private let instruments: PoolInstruments?
    private var state: PoolState<PostgresConnection> {
        // Every change shows in the gauges at once, and may be the one a drain waits for.
        didSet { stateChanged() }
    }
    /// Connections whose close is still under way (not counted in `state.open` any more).
    private var closing = 0
    private var drainWaiters: [Int: CheckedContinuation<Bool, Never>] = [:]
    private var nextDrainWaiter = 0
    private var waiting: [Int: CheckedContinuation<PostgresConnection, any Error>] = [:]
    private var nextWaiter = 0

    /// - Parameters:
    ///   - configuration: where and as whom each connection connects.
    ///   - maxConnections: the most connections open at once.
    ///   - acquireTimeout: how long a caller waits for a free connection before ``PostgresClientError/Kind/poolTimeout``.
    ///   - observability: the pool's name and where its metrics and spans go; by default the
    ///     metrics factory and tracer bootstrapped when the pool is made. ``PostgresObservability/disabled`` records nothing.
    ///   - statementCacheCapacity: prepared statements kept per connection, least recently used evicted.
    ///   - taintedConnections: ``TaintedConnections/reset`` (`DISCARD ALL`, the default) or, on a
    ///     Citus coordinator, ``TaintedConnections/close``.
    ///   - logger: where the pool's and its statements' log lines go (bind values redacted).
    ///   - eventLoopGroup: the loops its connections are spread over, in turn.
    public init(
        configuration: PostgresConfiguration,
        maxConnections: Int = 8,
        acquireTimeout: Duration = .seconds(10),
        statementCacheCapacity: Int = 256,
        taintedConnections: TaintedConnections = .reset,
        logger: Logger = Logger(label: "tenantkit.pool"),
        eventLoopGroup: PostgresEventLoopGroup = .shared,
        observability: PostgresObservability = .bootstrapped
    ) {
        self.eventLoopGroup = eventLoopGroup
        var configuration = configuration
        configuration.statementInstruments = StatementInstruments(observability, configuration: configuration)
        self.configuration = configuration
        self.observability = observability
        self.instruments = PoolInstruments(observability)
        self.acquireTimeout = acquireTimeout
        self.statementCacheCapacity = statementCacheCapacity
        self.taintedConnections = taintedConnections
        self.logger = logger
        self.maxConnections = max(1, maxConnections)
        self.state = PoolState(maxConnections: maxConnections)
        instruments?.publish(state.statistics)
    }

    /// Connections open now (idle or leased).
    public var openConnections: Int { state.open }

    /// Connections open, idle and leased, and callers waiting, now.
    public var statistics: PostgresPoolStatistics { state.statistics }

    /// Connections held by callers now (see ``PostgresPoolStatistics/leased``).
    public var leasedCount: Int { state.leased }

    /// Callers waiting for a connection now.
    public var waitingCount: Int { state.waiters.count }

    /// Leases a connection for `body` and takes it back afterwards, whatever happens.
    ///
    /// `body` runs with the connection's ``PostgresConnection/eventLoop`` as its preferred task
    /// executor, so each of its round trips is sent, awaited and resumed on that loop's thread with
    /// no hand-off; a caller on another executor is resumed there once, when `body` is done. A caller
    /// already running on one of the pool's loops gets a connection of that loop when one is idle.
    /// New connections are spread over the group's loops in turn.
    public func withConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await lease()
        do {
            let result = try await withTaskExecutorPreference(connection.eventLoop) { try await body(connection) }
            await giveBack(connection)
            return result
        } catch {
            await giveBack(connection)
            throw error
        }
    }

    /// ``withConnection(_:)`` without the executor preference, for one round trip: moving a caller
    /// that is not on the loop there and back would cost two hand-offs to save one.
    func withLeasedConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await lease()
        do {
            let result = try await body(connection)
            await giveBack(connection)
            return result
        } catch {
            await giveBack(connection)
            throw error
        }
    }

    /// Runs `body` in a transaction on one leased connection (see ``PostgresConnection/withTransaction(prelude:isolation:_:)``).
    public func withTransaction<T: Sendable>(
        prelude: [PostgresQuery] = [],
        isolation: PostgresConnection.IsolationLevel = .readCommitted,
        _ body: @Sendable (PostgresTransaction) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await connection.withTransaction(prelude: prelude, isolation: isolation, body)
        }
    }

    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await withLeasedConnection { try await $0.query(query) }
    }

    public func pipeline(_ queries: [PostgresQuery]) async throws -> [PostgresRows] {
        try await withLeasedConnection { try await $0.pipeline(queries) }
    }

    /// Runs `prelude(backendPID) + queries` in one pipeline on one leased connection (one round trip).
    public func pipeline(
        prelude: @Sendable (Int32) throws -> [PostgresQuery], _ queries: [PostgresQuery]
    ) async throws -> [PostgresRows] {
        try await withLeasedConnection { connection in try await connection.pipeline(prelude(connection.backendPID) + queries) }
    }

    /// Closes idle connections now and leased ones as they come back; waiting callers fail with
    /// ``PostgresClientError/Kind/poolClosed``, and so does every later lease.
    public func close() async {
        await shutDown(.closed)
    }

    /// Shuts the pool down gracefully: refuses new leases (and fails waiting callers) with
    /// ``PostgresClientError/Kind/poolClosed``, closes idle connections now, waits up to `timeout`
    /// for every leased connection to come back and closes each as it does.
    ///
    /// ```swift
    /// if await !pool.drain(timeout: .seconds(30)) {
    ///     logger.warning("still leased after 30 s", metadata: ["pg.leased": "\(await pool.leasedCount)"])
    /// }
    /// ```
    ///
    /// - Returns: true when every connection was closed in time; false when `timeout` passed or the
    ///   calling task was cancelled first (the rest still close as they come back).
    @discardableResult
    public func drain(timeout: Duration) async -> Bool {
        await shutDown(.draining)
        if isDrained { return true }
        nextDrainWaiter += 1
        let id = nextDrainWaiter
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            await self?.stopWaitingForDrain(id)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if isDrained || Task.isCancelled {
                    continuation.resume(returning: isDrained)
                } else {
                    drainWaiters[id] = continuation
                }
            }
        } onCancel: {
            Task { await self.stopWaitingForDrain(id) }
        }
    }

    private var isDrained: Bool { state.isClosed && state.open == 0 && closing == 0 }

    private func shutDown(_ how: PoolState<PostgresConnection>.Shutdown) async {
        let (idle, waiters) = state.close(how)
        let refusal = refusal(state.shutdown ?? how)
        for id in waiters { waiting.removeValue(forKey: id)?.resume(throwing: refusal) }
        await closeConnections(idle, .shutdown)
    }

    private func refusal(_ shutdown: PoolState<PostgresConnection>.Shutdown) -> PostgresClientError {
        switch shutdown {
        case .closed: PostgresClientError(.poolClosed, "the pool was closed")
        case .draining: PostgresClientError(.poolClosed, "the pool is draining to shut down and leases no more connections")
        }
    }

    private func stopWaitingForDrain(_ id: Int) {
        drainWaiters.removeValue(forKey: id)?.resume(returning: isDrained)
    }

    /// Publishes the gauges and ends the drains waiting, once the last connection is closed.
    private func stateChanged() {
        instruments?.publish(state.statistics)
        guard isDrained, !drainWaiters.isEmpty else { return }
        let waiters = drainWaiters
        drainWaiters = [:]
        for continuation in waiters.values { continuation.resume(returning: true) }
    }

    /// Closes connections the pool no longer counts as open. All count as closing from the start,
    /// so a drain cannot finish between two of them.
    private func closeConnections(_ connections: [PostgresConnection], _ reason: PoolInstruments.CloseReason) async {
        closing += connections.count
        for connection in connections {
            await connection.close()
            closing -= 1
            instruments?.closed(reason)
        }
        stateChanged()
    }

    // MARK: Leasing

    private func lease() async throws -> PostgresConnection {
        guard let instruments else { return try await leaseUntimed() }
        let start = ContinuousClock.now
        defer { instruments.acquireDuration.recordNanoseconds(nanoseconds(ContinuousClock.now - start)) }
        return try await leaseUntimed()
    }

    private func leaseUntimed() async throws -> PostgresConnection {
        while true {
            try Task.checkCancellation()
            nextWaiter += 1
            let waiter = nextWaiter
            // A caller on one of the pool's loops prefers a connection of that loop: no hand-off.
            var preferring: ((PostgresConnection) -> Bool)?
            if let here = PostgresEventLoop.current { preferring = { $0.eventLoop === here } }
            switch state.lease(waiter: waiter, preferring: preferring) {
            case .use(let connection):
                if connection.isReusable() { return connection }
                StatementLogger.current(logger).info("dropping a pooled connection the server closed", metadata: ["pg.backend": "\(connection.backendPID)"])
                if let other = state.discard() { openConnection(for: other) }
                await closeConnections([connection], .stale)
                continue
            case .open:
                return try await openNow()
            case .fail(let shutdown):
                throw refusal(shutdown)
            case .wait:
                return try await wait(waiter)
            }
        }
    }

    private func openNow() async throws -> PostgresConnection {
        do {
            return try await connect()
        } catch {
            if let other = state.discard() { openConnection(for: other) }
            throw error
        }
    }

    private nonisolated func connect() async throws -> PostgresConnection {
        do {
            let connection = try await PostgresConnection.connect(
                configuration, statementCacheCapacity: statementCacheCapacity, logger: logger, eventLoop: eventLoopGroup.next())
            instruments?.opened.increment()
            return connection
        } catch {
            instruments?.connectErrors.increment()
            throw error
        }
    }

    /// Opens a connection in the background for a waiter (a slot freed up while it waited).
    private func openConnection(for waiter: Int) {
        Task {
            do {
                let connection = try await self.connect()
                await self.deliver(connection, to: waiter)
            } catch {
                self.failOpen(for: waiter, error)
            }
        }
    }

    private func deliver(_ connection: PostgresConnection, to waiter: Int) async {
        if let continuation = waiting.removeValue(forKey: waiter) {
            continuation.resume(returning: connection)
        } else {
            await giveBack(connection)  // the waiter left meanwhile
        }
    }

    private func failOpen(for waiter: Int, _ error: any Error) {
        if let next = state.discard() { openConnection(for: next) }
        waiting.removeValue(forKey: waiter)?.resume(throwing: error)
    }

    private func wait(_ waiter: Int) async throws -> PostgresConnection {
        let timeout = acquireTimeout
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            await self?.expire(waiter)
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiting[waiter] = continuation
            }
        } onCancel: {
            Task { await self.abandon(waiter, with: CancellationError()) }
        }
    }

    private func expire(_ waiter: Int) {
        // Only a caller still waiting times out; one served meanwhile already has its connection.
        if waiting[waiter] != nil { instruments?.acquireTimeouts.increment() }
        abandon(waiter, with: PostgresClientError(
            .poolTimeout,
            "no connection became free within \(acquireTimeout) (all \(maxConnections) pooled connections are in use)"))
    }

    private func abandon(_ waiter: Int, with error: any Error) {
        // The waiter may no longer be queued because a replacement connection is being opened for
        // it: it still times out or is cancelled now, and `deliver` returns that connection to the pool.
        _ = state.abandon(waiter: waiter)
        waiting.removeValue(forKey: waiter)?.resume(throwing: error)
    }

    // MARK: Returning

    private func giveBack(_ connection: PostgresConnection) async {
        // Not in `state.idle` while this awaits a reset, so nobody can lease it meanwhile.
        guard await connection.prepareForNextLease(resettingTaint: taintedConnections == .reset) else {
            StatementLogger.current(logger).info("closing a connection that broke, was left in a transaction or could not be reset", metadata: ["pg.backend": "\(connection.backendPID)"])
            if let waiter = state.discard() { openConnection(for: waiter) }
            await closeConnections([connection], .broken)
            return
        }
        switch state.giveBack(connection) {
        case .handOver(let connection, let waiter):
            waiting.removeValue(forKey: waiter)?.resume(returning: connection)
        case .keep:
            break
        case .close(let connection):
            await closeConnections([connection], .shutdown)
        }
    }
}
