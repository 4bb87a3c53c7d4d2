/// What a ``PostgresPool`` holds at one moment, from ``PostgresPool/statistics``.
///
/// ```swift
/// let now = await pool.statistics
/// if now.waiting > 0 { logger.info("callers wait for a connection", metadata: ["pg.leased": "\(now.leased)"]) }
/// ```
public struct PostgresPoolStatistics: Sendable, Hashable, Codable {
    /// Connections open or being opened, leased or idle.
    public let open: Int
    /// Open connections nobody holds, ready to lease.
    public let idle: Int
    /// Open connections held by a caller (or being opened for one, or on their way back): `open - idle`.
    public let leased: Int
    /// Callers waiting for a connection to come back.
    public let waiting: Int
    /// The most connections the pool opens at once.
    public let maxConnections: Int

    /// The figures as given; ``PostgresPool`` makes them from its state.
    public init(open: Int, idle: Int, leased: Int, waiting: Int, maxConnections: Int) {
        self.open = open
        self.idle = idle
        self.leased = leased
        self.waiting = waiting
        self.maxConnections = maxConnections
    }
}
