import CoreMetrics
import Synchronization
import Tracing

/// What a pool's connections report for each pipeline they run (``PostgresConnection/pipeline(_:)``,
/// a transaction's statements, a scope's unit of work), each script
/// (``PostgresConnection/executeScript(unsafeSQL:)``, operation `SCRIPT`) and each session reset
/// (``PostgresConnection/resetSession()``, operation `DISCARD`): made once per pool, carried by the
/// connections' configuration.
///
/// - timer `tenantkit.pipeline.duration` (dimension `pool`): the pipeline's round trip;
/// - counter `tenantkit.pipeline.errors` (dimensions `pool`, `error`): a failed pipeline, `error`
///   being the SQLSTATE (`23505`), a client error kind (`connection_closed`, `pool_timeout`, ...),
///   `cancelled` or `other`; at most ``maxErrorLabels`` values, later ones count as `other`;
/// - a span of kind client named after the operation (see ``operationName(_:)``), with `db.system`,
///   `db.namespace`, `db.operation.name`, `db.operation.batch.size`, `server.address`,
///   `server.port`, `tenantkit.pool.name`, and on failure `db.response.status_code` and
///   `error.type`. Never SQL text, bind values or organization ids.
final class StatementInstruments: Sendable {
    /// Records nothing: for connections made outside a pool, or a pool with observability off.
    static let off = StatementInstruments()

    /// Distinct `error` values kept per pool, so a server inventing codes cannot grow the metric set.
    static let maxErrorLabels = 128

    private let duration: CoreMetrics.Timer?
    private let errors: ErrorCounters?
    private let tracer: (any Tracer)?
    /// The span attributes every pipeline of the pool shares.
    private let fixedAttributes: SpanAttributes

    private init() {
        duration = nil
        errors = nil
        tracer = nil
        fixedAttributes = [:]
    }

    init(_ observability: PostgresObservability, configuration: PostgresConfiguration) {
        let pool = [("pool", observability.poolName)]
        if let factory = observability.activeMetricsFactory {
            duration = CoreMetrics.Timer(label: "tenantkit.pipeline.duration", dimensions: pool, factory: factory)
            errors = ErrorCounters(pool: observability.poolName, factory: factory)
        } else {
            duration = nil
            errors = nil
        }
        tracer = observability.activeTracer
        var attributes: SpanAttributes = [:]
        attributes["db.system"] = "postgresql"
        if let database = configuration.database { attributes["db.namespace"] = database }
        if let host = configuration.host { attributes["server.address"] = host }
        if let port = configuration.port.flatMap(Int.init) { attributes["server.port"] = port }
        attributes["tenantkit.pool.name"] = observability.poolName
        fixedAttributes = attributes
    }

    /// Runs `body`, the round trip of `queries`, timing it, counting its error and wrapping it in a span.
    func observe(_ queries: [PostgresQuery], _ body: () async throws -> [PostgresRows]) async throws -> [PostgresRows] {
        guard duration != nil || tracer != nil else { return try await body() }
        return try await observe(operation: Self.operationName(queries), batchSize: queries.count, body)
    }

    /// Runs `body`, a round trip that is not a pipeline of statements (a script: `SCRIPT`; a
    /// session reset: `DISCARD`), timing it, counting its error and wrapping it in a span.
    func observe<T>(operation: String, _ body: () async throws -> T) async throws -> T {
        guard duration != nil || tracer != nil else { return try await body() }
        return try await observe(operation: operation, batchSize: 1, body)
    }

    private func observe<T>(operation: String, batchSize: Int, _ body: () async throws -> T) async throws -> T {
        let span = tracer.map { startSpan($0, operation: operation, batchSize: batchSize) }
        let start = ContinuousClock.now
        do {
            let rows = try await body()
            duration?.recordNanoseconds(nanoseconds(ContinuousClock.now - start))
            span?.end()
            return rows
        } catch {
            duration?.recordNanoseconds(nanoseconds(ContinuousClock.now - start))
            let label = Self.errorLabel(error)
            errors?.count(label)
            if let span {
                span.updateAttributes { attributes in
                    attributes["error.type"] = label
                    if let error = error as? PostgresError { attributes["db.response.status_code"] = error.code.code }
                }
                // The description, not the error: it leaves out messages that can quote row data.
                span.setStatus(SpanStatus(code: .error, message: String(describing: error)))
                span.end()
            }
            throw error
        }
    }

    private func startSpan(_ tracer: any Tracer, operation: String, batchSize: Int) -> any Span {
        let span = tracer.startSpan(operation, context: ServiceContext.current ?? .topLevel, ofKind: .client)
        let fixed = fixedAttributes
        span.updateAttributes { attributes in
            attributes.merge(fixed)
            attributes["db.operation.name"] = operation
            attributes["db.operation.batch.size"] = batchSize
        }
        return span
    }

    /// The first keyword of the statement, upper-cased (`SELECT`); for several statements, `BATCH`
    /// followed by it when they all share it (`BATCH INSERT`), else `BATCH`. `QUERY` when the text
    /// starts with no keyword.
    static func operationName(_ queries: [PostgresQuery]) -> String {
        let keywords = queries.map { firstKeyword($0.sql) }
        guard let first = keywords.first else { return "QUERY" }
        if keywords.count == 1 { return first }
        return keywords.allSatisfy { $0 == first } ? "BATCH \(first)" : "BATCH"
    }

    private static func firstKeyword(_ sql: String) -> String {
        var keyword = ""
        for scalar in sql.unicodeScalars {
            if keyword.isEmpty, scalar == " " || scalar == "\n" || scalar == "\t" || scalar == "\r" || scalar == "(" { continue }
            // Letters only, and few: this names a span, so it must come from a small, fixed set.
            guard scalar.isASCII, scalar.properties.isAlphabetic, keyword.utf8.count < 16 else { break }
            keyword.unicodeScalars.append(scalar)
        }
        return keyword.isEmpty ? "QUERY" : keyword.uppercased()
    }

    /// The `error` dimension for `error`.
    static func errorLabel(_ error: any Error) -> String {
        switch error {
        case let error as PostgresError: error.code.code
        case let error as PostgresClientError: String(error.kind.description.map { $0 == " " ? "_" : $0 })
        case is CancellationError: "cancelled"
        default: "other"
        }
    }
}

/// `duration` in whole nanoseconds, saturating.
func nanoseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    return overflow ? .max : whole.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
}

/// The error counters of one pool, made on first use of each label and kept; bounded by
/// ``StatementInstruments/maxErrorLabels``.
private final class ErrorCounters: Sendable {
    private let pool: String
    private let factory: any MetricsFactory
    private let counters = Mutex<[String: Counter]>([:])

    init(pool: String, factory: any MetricsFactory) {
        self.pool = pool
        self.factory = factory
    }

    func count(_ label: String) {
        let counter = counters.withLock { counters -> Counter in
            if let counter = counters[label] { return counter }
            let kept = counters.count < StatementInstruments.maxErrorLabels ? label : "other"
            if let counter = counters[kept] { return counter }
            let counter = Counter(label: "tenantkit.pipeline.errors", dimensions: [("pool", pool), ("error", kept)], factory: factory)
            counters[kept] = counter
            return counter
        }
        counter.increment()
    }
}
