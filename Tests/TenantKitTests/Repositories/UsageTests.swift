import Foundation
import MetricsTestKit
import TenantKitPostgres
import TenantKit
import TenantKitTesting
import TenantSQL
import Testing

@Suite struct StoreUsageTests {
    /// A session's reads and writes are charged to its active organization in `store.usage`, and
    /// no metric the pool emits carries an organization id.
    @Test func sessionsChargeTheirActiveOrganizationAndMetricsNeverNameIt() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            let metrics = TestMetrics()
            let pool = db.makePool(
                user: "tenantkit_app",
                observability: try PostgresObservability(poolName: "app", metricsFactory: metrics, tracer: nil))
            let store = TenantStore(pool: pool, key: .forTesting, usage: try OrgUsage(slots: 8))
            let ada = try await store.createUser(email: "ada@x.test", emailVerified: true)
            let session = try await store.session(for: ada.id)
            let acme = try await session.createOrganization(named: "Acme")
            let beta = try await session.createOrganization(named: "Beta")  // now active
            store.usage.reset()

            for _ in 0..<3 { _ = try await session.read { try await $0.catalog.page() } }
            try await session.switch(to: acme)
            _ = try await session.write { try await $0.catalog.create(kind: "model", slug: "m1", name: "Model one") }

            let report = store.usage.top(10)
            #expect(Set(report.entries.map(\.orgID)) == [acme, beta])
            #expect(report.entries.allSatisfy { $0.statements > 0 && $0.seconds > 0 && $0.failures == 0 })

            let dimensionValues = (metrics.counters.map(\.dimensions) + metrics.timers.map(\.dimensions) + metrics.recorders.map(\.dimensions))
                .flatMap { $0.map(\.1) }
            #expect(!dimensionValues.isEmpty)
            for org in [acme, beta] {
                #expect(!dimensionValues.contains { $0.lowercased().contains(org.uuidString.lowercased()) })
            }
            await pool.close()
        }
    }
}
