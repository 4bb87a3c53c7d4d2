import CoreMetrics

/// The pool's metrics, made once when the pool is made, so reporting allocates nothing.
///
/// Names (each with the dimension `pool`):
/// - gauges `tenantkit.pool.connections.open`, `.idle`, `.leased`, and `tenantkit.pool.waiters`;
/// - timer `tenantkit.pool.acquire.duration` (every lease, from asking to holding a connection);
/// - counters `tenantkit.pool.acquire.timeouts`, `tenantkit.pool.connections.opened`,
///   `tenantkit.pool.connect.errors`, and `tenantkit.pool.connections.closed` with a `reason`:
///   `broken` (came back broken, in a transaction, or could not be reset), `stale` (the server had
///   closed it while idle) or `shutdown`.
final class PoolInstruments: Sendable {
    /// Why the pool closed a connection: the `reason` dimension.
    enum CloseReason {
        case broken, stale, shutdown
    }

    private let open: Gauge
    private let idle: Gauge
    private let leased: Gauge
    private let waiters: Gauge
    let acquireDuration: CoreMetrics.Timer
    let acquireTimeouts: Counter
    let opened: Counter
    let connectErrors: Counter
    private let closedBroken: Counter
    private let closedStale: Counter
    private let closedShutdown: Counter

    /// Nil when `observability` records no metrics.
    init?(_ observability: PostgresObservability) {
        guard let factory = observability.activeMetricsFactory else { return nil }
        let pool = [("pool", observability.poolName)]
        open = Gauge(label: "tenantkit.pool.connections.open", dimensions: pool, factory: factory)
        idle = Gauge(label: "tenantkit.pool.connections.idle", dimensions: pool, factory: factory)
        leased = Gauge(label: "tenantkit.pool.connections.leased", dimensions: pool, factory: factory)
        waiters = Gauge(label: "tenantkit.pool.waiters", dimensions: pool, factory: factory)
        acquireDuration = CoreMetrics.Timer(label: "tenantkit.pool.acquire.duration", dimensions: pool, factory: factory)
        acquireTimeouts = Counter(label: "tenantkit.pool.acquire.timeouts", dimensions: pool, factory: factory)
        opened = Counter(label: "tenantkit.pool.connections.opened", dimensions: pool, factory: factory)
        connectErrors = Counter(label: "tenantkit.pool.connect.errors", dimensions: pool, factory: factory)
        func closed(_ reason: String) -> Counter {
            Counter(label: "tenantkit.pool.connections.closed", dimensions: pool + [("reason", reason)], factory: factory)
        }
        closedBroken = closed("broken")
        closedStale = closed("stale")
        closedShutdown = closed("shutdown")
    }

    func publish(_ statistics: PostgresPoolStatistics) {
        open.record(statistics.open)
        idle.record(statistics.idle)
        leased.record(statistics.leased)
        waiters.record(statistics.waiting)
    }

    func closed(_ reason: CloseReason) {
        switch reason {
        case .broken: closedBroken.increment()
        case .stale: closedStale.increment()
        case .shutdown: closedShutdown.increment()
        }
    }
}
