import Logging
import TenantKitPostgres
import ServiceLifecycle

/// A ``TenantKitPostgres/PostgresPool`` as a swift-service-lifecycle `Service`: it runs until graceful
/// shutdown, then drains the pool (``TenantKitPostgres/PostgresPool/drain(timeout:)``).
///
/// On graceful shutdown the pool stops leasing (new calls fail with `poolClosed`, saying it is
/// draining), closes its idle connections at once and each leased one as its statement or
/// transaction returns it; `run()` returns when every connection is closed, or after
/// `drainTimeout` (then the rest close as they come back). On cancellation it closes without waiting.
///
/// A `ServiceGroup` shuts its services down in reverse order, so list the pool before the HTTP
/// server: requests finish first, then the pool drains. Hummingbird's `Application(services:)`
/// already runs its server after the services it is given.
///
/// ```swift
/// let app = Application(router: router, services: [TenantPoolService(pool: store.pool)])
/// try await app.runService()
/// ```
public struct TenantPoolService: Service {
    /// The pool it closes.
    public let pool: PostgresPool
    /// The longest `run()` waits for leased connections after graceful shutdown.
    public let drainTimeout: Duration
    let logger: Logger

    /// - Parameters:
    ///   - pool: the pool to close on shutdown.
    ///   - drainTimeout: the longest wait for work in flight.
    ///   - logger: says when draining timed out.
    public init(pool: PostgresPool, drainTimeout: Duration = .seconds(30), logger: Logger = Logger(label: "tenantkit.pool.service")) {
        self.pool = pool
        self.drainTimeout = drainTimeout
        self.logger = logger
    }

    /// Waits for graceful shutdown, then drains the pool (logging a warning if `drainTimeout` passes first); on cancellation closes it and
    /// rethrows `CancellationError`.
    public func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            await pool.close()  // cancelled: no time to drain
            throw error
        }
        guard await !pool.drain(timeout: drainTimeout), !Task.isCancelled else { return }  // drained, or nobody waits any more
        let leased = await pool.leasedCount
        logger.warning("pool did not drain in time; the remaining connections close as they are returned", metadata: ["pg.leased": "\(leased)"])
    }
}
