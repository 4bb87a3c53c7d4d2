import Foundation
import MetricsTestKit
import TenantKitPostgres
import TenantKitTesting
import Testing

@Suite struct PoolDrainTests {
    @Test func drainWaitsForTheLeaseAndRefusesNewOnes() async throws {
        try await TestDatabase.with { db in
            let metrics = TestMetrics()
            let pool = db.makePool(
                maxConnections: 2, observability: try observed("drain", metrics: metrics))
            let held = await HeldLease.start(on: pool)
            try await pool.execute("SELECT 1")  // opens a second connection, idle afterwards
            #expect(await pool.statistics == PostgresPoolStatistics(open: 2, idle: 1, leased: 1, waiting: 0, maxConnections: 2))

            let drain = Task { await pool.drain(timeout: .seconds(30)) }
            #expect(await eventually { await pool.statistics.open == 1 })
            let refused = await captureError(PostgresClientError.self) { try await pool.execute("SELECT 1") }
            #expect(refused?.kind == .poolClosed)
            #expect(refused?.message.contains("draining") == true)
            try await Task.sleep(for: .milliseconds(50))
            #expect(await pool.leasedCount == 1)  // still out, and the drain still waits for it

            try await held.release()
            #expect(await drain.value == true)
            #expect(await pool.statistics == PostgresPoolStatistics(open: 0, idle: 0, leased: 0, waiting: 0, maxConnections: 2))
            #expect(try metrics.expectCounter("tenantkit.pool.connections.closed", [("pool", "drain"), ("reason", "shutdown")]).totalValue == 2)
            #expect(await pool.drain(timeout: .seconds(1)) == true)  // again: nothing left to wait for
        }
    }

    @Test func drainFailsWaitingCallersAtOnce() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 1, acquireTimeout: .seconds(30))
            let held = await HeldLease.start(on: pool)
            let waiter = Task { try await pool.execute("SELECT 1") }
            #expect(await eventually { await pool.waitingCount == 1 })
            let drain = Task { await pool.drain(timeout: .seconds(30)) }
            let error = await captureError(PostgresClientError.self) { try await waiter.value }
            #expect(error?.kind == .poolClosed)
            #expect(error?.message.contains("draining") == true)
            try await held.release()
            #expect(await drain.value == true)
        }
    }

    @Test func drainGivesUpAfterItsTimeoutAndTheLeaseClosesOnReturn() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 1)
            let held = await HeldLease.start(on: pool)
            let started = ContinuousClock.now
            #expect(await pool.drain(timeout: .milliseconds(100)) == false)
            #expect(ContinuousClock.now - started >= .milliseconds(100))
            #expect(await pool.leasedCount == 1)
            try await held.release()
            #expect(await pool.openConnections == 0)
        }
    }
}
