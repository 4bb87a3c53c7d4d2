import CoreMetrics
import Tracing

/// How a ``PostgresPool`` reports what it does: its name, and where its metrics and spans go.
///
/// By default a pool reports to whatever the application bootstrapped (`MetricsSystem.bootstrap`,
/// `InstrumentationSystem.bootstrap`) before it made the pool, as swift-metrics and
/// swift-distributed-tracing expect of libraries; with neither bootstrapped, nothing is recorded and a
/// statement pays one branch for it.
///
/// ```swift
/// MetricsSystem.bootstrap(PrometheusMetricsFactory())          // once, at startup
/// let pool = PostgresPool(
///     configuration: try .fromEnvironment(),
///     observability: try PostgresObservability(poolName: "app"))
/// let quiet = PostgresPool(configuration: config, observability: .disabled)
/// ```
///
/// The pool's name is the `pool` dimension of every metric and the `tenantkit.pool.name` attribute
/// of every span; organization ids are never either.
public struct PostgresObservability: Sendable {
    /// The `pool` dimension of the pool's metrics.
    public let poolName: String
    /// Where metrics go; nil makes none.
    public let metricsFactory: (any MetricsFactory)?
    /// Where spans go; nil makes none.
    public let tracer: (any Tracer)?

    /// - Parameters:
    ///   - poolName: 1 to 64 characters of `A-Z a-z 0-9 _ - .`: it becomes a metric dimension.
    ///   - metricsFactory: by default the one bootstrapped now; nil for no metrics.
    ///   - tracer: by default the one bootstrapped now; nil for no spans.
    /// - Throws: ``PostgresClientError/Kind/invalidConfiguration`` naming a bad pool name.
    public init(
        poolName: String = "default",
        metricsFactory: (any MetricsFactory)? = MetricsSystem.factory,
        tracer: (any Tracer)? = InstrumentationSystem.tracer
    ) throws {
        let allowed = poolName.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2D || byte == 0x2E
        }
        guard !poolName.isEmpty, poolName.utf8.count <= 64, allowed else {
            throw PostgresClientError(
                .invalidConfiguration,
                "pool name \"\(poolName.prefix(80))\" is not 1 to 64 characters of A-Z, a-z, 0-9, '_', '-' and '.'")
        }
        self.init(checkedName: poolName, metricsFactory: metricsFactory, tracer: tracer)
    }

    private init(checkedName: String, metricsFactory: (any MetricsFactory)?, tracer: (any Tracer)?) {
        self.poolName = checkedName
        self.metricsFactory = metricsFactory
        self.tracer = tracer
    }

    /// The pool named `default`, reporting to the metrics factory and tracer bootstrapped now.
    public static var bootstrapped: PostgresObservability {
        PostgresObservability(checkedName: "default", metricsFactory: MetricsSystem.factory, tracer: InstrumentationSystem.tracer)
    }

    /// No metrics and no spans.
    public static let disabled = PostgresObservability(checkedName: "default", metricsFactory: nil, tracer: nil)

    /// The factory, unless it is the one that records nothing (then skipping the clock reads is free).
    var activeMetricsFactory: (any MetricsFactory)? {
        guard let metricsFactory, !(metricsFactory is NOOPMetricsHandler) else { return nil }
        return metricsFactory
    }

    /// The tracer, unless it is the one that records nothing.
    var activeTracer: (any Tracer)? {
        guard let tracer, !(tracer is NoOpTracer) else { return nil }
        return tracer
    }
}
