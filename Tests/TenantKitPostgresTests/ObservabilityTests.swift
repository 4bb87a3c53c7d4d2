import Foundation
import InMemoryTracing
import MetricsTestKit
import TenantKitPostgres
import TenantKitTesting
import Testing
import Tracing

/// A connection leased from `pool` and held until `release()`; `leased` returns once it is held.
struct HeldLease {
    let task: Task<Void, any Error>
    private let releaseSignal: AsyncStream<Void>.Continuation

    static func start(on pool: PostgresPool) async -> HeldLease {
        let (held, heldSignal) = AsyncStream.makeStream(of: Void.self)
        let (released, releaseSignal) = AsyncStream.makeStream(of: Void.self)
        let task = Task {
            try await pool.withConnection { _ in
                heldSignal.yield()
                for await _ in released { break }
            }
        }
        for await _ in held { break }
        return HeldLease(task: task, releaseSignal: releaseSignal)
    }

    /// Gives the connection back and waits until the pool has it.
    func release() async throws {
        releaseSignal.yield()
        try await task.value
    }
}

/// Polls `condition` every 5 ms for up to 5 s; false if it never held.
func eventually(_ condition: () async -> Bool) async -> Bool {
    for _ in 0..<1000 {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return false
}

/// Reports of a pool named `name` to `metrics` and `tracer` only.
func observed(_ name: String = "obs", metrics: TestMetrics? = nil, tracer: InMemoryTracer? = nil) throws -> PostgresObservability {
    try PostgresObservability(poolName: name, metricsFactory: metrics, tracer: tracer)
}

/// Metrics and spans go to a factory and a tracer given to each pool, never a process-wide
/// bootstrap, so these tests run in parallel and apart from every other suite.
@Suite struct PoolMetricsTests {
    let dims = [("pool", "obs")]

    func gauge(_ metrics: TestMetrics, _ name: String) throws -> Double? {
        try metrics.expectGauge("tenantkit.pool.\(name)", dims).lastValue
    }

    func gauges(_ metrics: TestMetrics) throws -> [Double?] {
        try ["connections.open", "connections.idle", "connections.leased", "waiters"].map { try gauge(metrics, $0) }
    }

    @Test func gaugesFollowLeasesWaitersAndReturns() async throws {
        try await TestDatabase.with { db in
            let metrics = TestMetrics()
            let pool = db.makePool(
                maxConnections: 2, observability: try observed(metrics: metrics))
            #expect(try gauges(metrics) == [0, 0, 0, 0])

            let a = await HeldLease.start(on: pool)
            #expect(try gauges(metrics) == [1, 0, 1, 0])
            let b = await HeldLease.start(on: pool)
            #expect(try gauges(metrics) == [2, 0, 2, 0])
            let waiter = Task { try await pool.fetchOne("SELECT 1", as: Int.self) }
            #expect(await eventually { await pool.waitingCount == 1 })
            #expect(try gauges(metrics) == [2, 0, 2, 1])
            #expect(await pool.statistics == PostgresPoolStatistics(open: 2, idle: 0, leased: 2, waiting: 1, maxConnections: 2))

            try await a.release()  // handed to the waiter, whose statement then returns it
            #expect(try await waiter.value == 1)
            #expect(await eventually { await pool.leasedCount == 1 })
            #expect(try gauges(metrics) == [2, 1, 1, 0])
            try await b.release()
            #expect(try gauges(metrics) == [2, 2, 0, 0])
            #expect(try metrics.expectCounter("tenantkit.pool.connections.opened", dims).totalValue == 2)
            // Every lease is timed: a, b and the waiter's.
            #expect(try metrics.expectTimer("tenantkit.pool.acquire.duration", dims).values.count == 3)

            await pool.close()
            #expect(try gauges(metrics) == [0, 0, 0, 0])
            #expect(try metrics.expectCounter("tenantkit.pool.connections.closed", dims + [("reason", "shutdown")]).totalValue == 2)
        }
    }

    @Test func anAcquireTimeoutIsCountedAndTimed() async throws {
        try await TestDatabase.with { db in
            let metrics = TestMetrics()
            let pool = db.makePool(
                maxConnections: 1, acquireTimeout: .milliseconds(100),
                observability: try observed(metrics: metrics))
            let held = await HeldLease.start(on: pool)
            let error = await captureError(PostgresClientError.self) { try await pool.execute("SELECT 1") }
            #expect(error?.kind == .poolTimeout)
            #expect(try metrics.expectCounter("tenantkit.pool.acquire.timeouts", dims).totalValue == 1)
            let waits = try metrics.expectTimer("tenantkit.pool.acquire.duration", dims).values
            #expect(waits.count == 2)
            #expect(waits.max()! >= 100_000_000)  // the timed-out caller waited the whole timeout
            try await held.release()
            await pool.close()
        }
    }

    @Test func aConnectionKilledWhileIdleIsCountedAsStale() async throws {
        try await TestDatabase.with { db in
            let metrics = TestMetrics()
            let pool = db.makePool(maxConnections: 1, observability: try observed(metrics: metrics))
            let pid = try await pool.fetchOne("SELECT pg_backend_pid()", as: Int32.self)
            let killer = try await db.connect()
            #expect(try await killer.fetchOne("SELECT pg_terminate_backend(\(pid))", as: Bool.self))
            while try await killer.fetchOne("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid)", as: Int.self) > 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            await killer.close()
            // The next lease finds it dead, closes it and opens another.
            #expect(try await pool.fetchOne("SELECT pg_backend_pid()", as: Int32.self) != pid)
            #expect(try metrics.expectCounter("tenantkit.pool.connections.closed", dims + [("reason", "stale")]).totalValue == 1)
            #expect(try metrics.expectCounter("tenantkit.pool.connections.opened", dims).totalValue == 2)
            await pool.close()
        }
    }

    @Test func aBadPoolNameIsRefusedByName() {
        for name in ["", "org 42", String(repeating: "p", count: 65), "é"] {
            #expect {
                try PostgresObservability(poolName: name, metricsFactory: nil, tracer: nil)
            } throws: { error in
                guard let error = error as? PostgresClientError else { return false }
                return error.kind == .invalidConfiguration && error.message.contains("pool name \"\(name.prefix(80))\"")
            }
        }
        #expect(throws: Never.self) { try PostgresObservability(poolName: "app-primary.v2_1", metricsFactory: nil, tracer: nil) }
    }
}

@Suite struct StatementMetricsTests {
    let dims = [("pool", "obs")]

    @Test func eachPipelineIsTimedAndAFailureCountedUnderItsSQLState() async throws {
        try await TestDatabase.with { db in
            let metrics = TestMetrics()
            let pool = db.makePool(observability: try observed(metrics: metrics))
            try await pool.execute("SELECT 1")
            _ = try await pool.pipeline(["SELECT 1", "SELECT 2"])
            let divisor = 0
            let error = await captureError(PostgresError.self) { try await pool.execute("SELECT 1 / \(divisor)") }
            #expect(error?.code == SQLState("22012"))
            try await pool.withTransaction { tx in
                try await tx.execute("SELECT 3")
                try await tx.execute("SELECT 4")
            }

            // One value per pipeline: 2 single statements, 1 pipeline of two, the failure, 2 in the transaction.
            #expect(try metrics.expectTimer("tenantkit.pipeline.duration", dims).values.count == 5)
            #expect(try metrics.expectCounter("tenantkit.pipeline.errors", dims + [("error", "22012")]).totalValue == 1)
            #expect(metrics.counters(label: "tenantkit.pipeline.errors").count == 1)
            await pool.close()
        }
    }

    @Test func aClientSideFailureIsCountedUnderItsKind() async throws {
        try await TestDatabase.with { db in
            let metrics = TestMetrics()
            let pool = db.makePool(maxConnections: 1, observability: try observed(metrics: metrics))
            var thrown: (any Error)?
            do {
                _ = try await pool.withConnection { connection in
                    try await connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
                }
            } catch {
                thrown = error
            }
            // The server ends the backend before it answers: the connection is lost.
            let error = try #require(thrown as? PostgresClientError)
            #expect(error.kind == .connectionClosed)
            #expect(try metrics.expectCounter("tenantkit.pipeline.errors", dims + [("error", "connection_closed")]).totalValue == 1)
            #expect(metrics.counters(label: "tenantkit.pipeline.errors").count == 1)
            #expect(try metrics.expectCounter("tenantkit.pool.connections.closed", dims + [("reason", "broken")]).totalValue == 1)
            await pool.close()
        }
    }
}

@Suite struct StatementTracingTests {
    @Test func aSpanPerPipelineNestsUnderTheCallersSpanWithoutBindValues() async throws {
        try await TestDatabase.with { db in
            let tracer = InMemoryTracer()
            let pool = db.makePool(observability: try observed("traced", tracer: tracer))
            let secret = "tenant-secret-4711"
            let echoed = try await tracer.withSpan("GET /catalog") { _ in
                try await pool.fetchOne("SELECT \(secret)::text", as: String.self)
            }
            #expect(echoed == secret)
            _ = try await pool.pipeline(["SELECT 1", "SELECT 2"])

            let spans = tracer.finishedSpans
            let request = try #require(spans.first { $0.operationName == "GET /catalog" })
            let select = try #require(spans.first { $0.operationName == "SELECT" })
            #expect(select.kind == .client)
            #expect(select.parentSpanID == request.spanID)
            #expect(select.traceID == request.traceID)
            #expect(select.attributes["db.system"]?.toSpanAttribute() == .string("postgresql"))
            #expect(select.attributes["db.namespace"]?.toSpanAttribute() == .string(db.configuration.database!))
            #expect(select.attributes["db.operation.name"]?.toSpanAttribute() == .string("SELECT"))
            #expect(select.attributes["db.operation.batch.size"]?.toSpanAttribute() == .int64(1))
            #expect(select.attributes["tenantkit.pool.name"]?.toSpanAttribute() == .string("traced"))
            var values: [String] = []
            select.attributes.forEach { key, value in values.append("\(key)=\(value)") }
            #expect(!values.contains { $0.contains(secret) })

            let batch = try #require(spans.first { $0.operationName == "BATCH SELECT" })
            #expect(batch.attributes["db.operation.batch.size"]?.toSpanAttribute() == .int64(2))
            #expect(batch.parentSpanID == nil)  // no span around it: a root
            await pool.close()
        }
    }

    @Test func aScriptAndTheResetItCausesHaveSpansOfTheirOwn() async throws {
        try await TestDatabase.with { db in
            let tracer = InMemoryTracer()
            let pool = db.makePool(maxConnections: 1, observability: try observed("traced", tracer: tracer))
            let secret = "script-secret-4711"
            try await pool.withConnection { connection in
                try await connection.executeScript(unsafeSQL: "CREATE TEMP TABLE notes (body text); INSERT INTO notes VALUES ('\(secret)')")
            }
            // The script tainted the connection: the pool resets it before leasing it again.
            #expect(try await pool.fetchOne("SELECT count(*) FROM pg_tables WHERE tablename = 'notes'", as: Int64.self) == 0)

            let names = tracer.finishedSpans.map(\.operationName)
            #expect(names == ["SCRIPT", "DISCARD", "SELECT"])
            for span in tracer.finishedSpans {
                #expect(span.kind == .client)
                #expect(span.attributes["db.system"]?.toSpanAttribute() == .string("postgresql"))
                var values: [String] = []
                span.attributes.forEach { key, value in values.append("\(key)=\(value)") }
                #expect(!values.contains { $0.contains(secret) })
            }
            await pool.close()
        }
    }

    @Test func aFailedPipelineSpanCarriesItsSQLStateAndErrorStatus() async throws {
        try await TestDatabase.with { db in
            let tracer = InMemoryTracer()
            let pool = db.makePool(observability: try observed("traced", tracer: tracer))
            let email = "ada@example.com"
            try await pool.execute("CREATE TABLE people (email text UNIQUE)")
            try await pool.execute("INSERT INTO people VALUES (\(email))")
            _ = await captureError(PostgresError.self) { try await pool.execute("INSERT INTO people VALUES (\(email))") }

            let failed = try #require(tracer.finishedSpans.last)
            #expect(failed.operationName == "INSERT")
            #expect(failed.status?.code == .error)
            #expect(failed.status?.message?.contains(email) == false)  // the server's message quotes the row
            #expect(failed.attributes["db.response.status_code"]?.toSpanAttribute() == .string("23505"))
            #expect(failed.attributes["error.type"]?.toSpanAttribute() == .string("23505"))
            #expect(failed.errors.isEmpty)  // the error value itself, with its detail, is never handed over
            await pool.close()
        }
    }
}
