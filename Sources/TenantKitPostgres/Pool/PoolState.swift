/// The pool's bookkeeping as a pure state machine: no I/O, no clock, no tasks. ``PostgresPool``
/// feeds it events and carries out the actions it returns, so every rule here is testable alone.
struct PoolState<Connection> {
    enum LeaseAction {
        /// Hand this idle connection out (after checking it is still alive).
        case use(Connection)
        /// Open a new connection for the waiter.
        case open
        /// Queue the waiter until a connection comes back or its timeout passes.
        case wait
        /// The pool is shut down (closed, or draining before it closes): refuse the lease.
        case fail(Shutdown)
    }

    /// How the pool was shut down; both refuse new leases and close connections as they come back.
    enum Shutdown: Equatable {
        /// ``PostgresPool/close()``: nobody waits for the leased connections.
        case closed
        /// ``PostgresPool/drain(timeout:)``: someone waits for every leased connection to come back.
        case draining
    }

    enum ReturnAction {
        /// Give the connection to the waiter that has waited longest.
        case handOver(Connection, to: Int)
        /// Keep it idle.
        case keep
        /// Close it: the pool is shutting down.
        case close(Connection)
    }

    let maxConnections: Int
    private(set) var idle: [Connection] = []
    /// Connections open or being opened, leased or idle.
    private(set) var open = 0
    /// Waiter ids, oldest first.
    private(set) var waiters: [Int] = []
    /// Set once, by the first ``close(_:)``.
    private(set) var shutdown: Shutdown?
    var isClosed: Bool { shutdown != nil }

    /// Connections handed out (or being opened for a caller, or on their way back): open but not idle.
    var leased: Int { open - idle.count }

    /// The figures ``PostgresPool/statistics`` reports.
    var statistics: PostgresPoolStatistics {
        PostgresPoolStatistics(open: open, idle: idle.count, leased: leased, waiting: waiters.count, maxConnections: maxConnections)
    }

    init(maxConnections: Int) { self.maxConnections = max(1, maxConnections) }

    /// A caller (known as `waiter`) wants a connection: the most recently returned idle one that
    /// `preferring` accepts, else the most recently returned.
    mutating func lease(waiter: Int, preferring: ((Connection) -> Bool)? = nil) -> LeaseAction {
        if let shutdown { return .fail(shutdown) }
        if let preferring, let index = idle.lastIndex(where: preferring) { return .use(idle.remove(at: index)) }
        if let connection = idle.popLast() { return .use(connection) }
        if open < maxConnections {
            open += 1
            return .open
        }
        waiters.append(waiter)
        return .wait
    }

    /// A healthy connection is back (returned by its user or freshly opened for a waiter that left).
    mutating func giveBack(_ connection: Connection) -> ReturnAction {
        if isClosed {
            open -= 1
            return .close(connection)
        }
        if !waiters.isEmpty { return .handOver(connection, to: waiters.removeFirst()) }
        idle.append(connection)
        return .keep
    }

    /// A connection was closed as broken, or failed to open. Returns a waiter to open a replacement
    /// for, if one is waiting.
    mutating func discard() -> Int? {
        open -= 1
        guard !isClosed, !waiters.isEmpty, open < maxConnections else { return nil }
        open += 1
        return waiters.removeFirst()
    }

    /// A waiter timed out or was cancelled; false if it had already been served.
    mutating func abandon(waiter: Int) -> Bool {
        guard let index = waiters.firstIndex(of: waiter) else { return false }
        waiters.remove(at: index)
        return true
    }

    /// Shuts the pool: returns the idle connections to close and the waiters to fail. A second call
    /// keeps the first call's way of shutting down.
    mutating func close(_ how: Shutdown = .closed) -> (idle: [Connection], waiters: [Int]) {
        if shutdown == nil { shutdown = how }
        defer { open -= idle.count; idle = []; waiters = [] }
        return (idle, waiters)
    }
}
