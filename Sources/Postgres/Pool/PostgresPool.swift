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
/// A connection that ran only static statements goes back as it is, at no cost.
public actor PostgresPool: PostgresExecutor {
    public let configuration: PostgresConfiguration
    public let acquireTimeout: Duration
    public let statementCacheCapacity: Int
    /// The most connections open at once.
    public nonisolated let maxConnections: Int
    public nonisolated let logger: Logger
    /// The loops the pool's connections are spread over.
    public nonisolated let eventLoopGroup: PostgresEventLoopGroup
    private var state: PoolState<PostgresConnection>
    private var waiting: [Int: CheckedContinuation<PostgresConnection, any Error>] = [:]
    private var nextWaiter = 0

    /// - Parameters:
    ///   - maxConnections: the most connections open at once.
    ///   - acquireTimeout: how long a caller waits for a free connection before ``PostgresClientError/Kind/poolTimeout``.
    public init(
        configuration: PostgresConfiguration,
        maxConnections: Int = 8,
        acquireTimeout: Duration = .seconds(10),
        statementCacheCapacity: Int = 256,
        logger: Logger = Logger(label: "tenantkit.pool"),
        eventLoopGroup: PostgresEventLoopGroup = .shared
    ) {
        self.eventLoopGroup = eventLoopGroup
        self.configuration = configuration
        self.acquireTimeout = acquireTimeout
        self.statementCacheCapacity = statementCacheCapacity
        self.logger = logger
        self.maxConnections = max(1, maxConnections)
        self.state = PoolState(maxConnections: maxConnections)
    }


    /// Connections open now (idle or leased).
    public var openConnections: Int { state.open }

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

    /// Closes idle connections now and leased ones as they come back; waiting callers fail.
    public func close() async {
        let (idle, waiters) = state.close()
        for id in waiters {
            waiting.removeValue(forKey: id)?.resume(throwing: PostgresClientError(.poolClosed, "the pool was closed"))
        }
        for connection in idle { await connection.close() }
    }

    // MARK: Leasing

    private func lease() async throws -> PostgresConnection {
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
                await connection.close()
                if let other = state.discard() { openConnection(for: other) }
                continue
            case .open:
                return try await openNow()
            case .fail:
                throw PostgresClientError(.poolClosed, "the pool was closed")
            case .wait:
                return try await wait(waiter)
            }
        }
    }

    private func openNow() async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(
                configuration, statementCacheCapacity: statementCacheCapacity, logger: logger, eventLoop: eventLoopGroup.next())
        } catch {
            if let other = state.discard() { openConnection(for: other) }
            throw error
        }
    }

    /// Opens a connection in the background for a waiter (a slot freed up while it waited).
    private func openConnection(for waiter: Int) {
        Task {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration, statementCacheCapacity: statementCacheCapacity, logger: logger, eventLoop: eventLoopGroup.next())
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
        guard await connection.prepareForNextLease() else {
            StatementLogger.current(logger).info("closing a connection that broke, was left in a transaction or could not be reset", metadata: ["pg.backend": "\(connection.backendPID)"])
            await connection.close()
            if let waiter = state.discard() { openConnection(for: waiter) }
            return
        }
        switch state.giveBack(connection) {
        case .handOver(let connection, let waiter):
            waiting.removeValue(forKey: waiter)?.resume(returning: connection)
        case .keep:
            break
        case .close(let connection):
            await connection.close()
        }
    }
}
