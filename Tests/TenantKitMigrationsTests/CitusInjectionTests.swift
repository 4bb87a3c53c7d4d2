import Foundation
import TenantKit
import TenantKitMigrations
import TenantKitPostgres
import TenantKitTesting
import TenantSQL
import Testing

/// TenantKitTesting's injection corpus on a Citus cluster with the distributed schema: every attack,
/// as each of its attackers, inside a legitimate scope whose claim travels as `SET LOCAL` (the one
/// transport Citus forwards to the workers).
///
/// A clone per attack cannot be had on Citus (`CREATE DATABASE ... TEMPLATE` is refused while the
/// maintenance daemon is connected, and a new database needs the extension and node metadata on
/// every node), so the attacks share one distributed world, restored after each attack that
/// changed it (``InjectionSharedWorld``). Opt-in like `CitusDistributionTests`, with the same
/// TENANTKIT_CITUS_URL; TENANTKIT_INJECTION_FILTER and TENANTKIT_INJECTION_REPORT as in
/// `InjectionSuiteTests`.
@Suite("Citus injection corpus", .serialized)
struct CitusInjectionTests {
    @Test(.timeLimit(.minutes(40)))
    func everyInjectionIsContainedOnTheCluster() async throws {
        try await CitusTestCluster.with(for: "CitusInjectionTests", run)
    }

    func run(on cluster: CitusTestCluster) async throws {
        let started = ContinuousClock.now
        _ = try await Migrator(directory: schemaDirectory).up(configuration: cluster.coordinator)
        try await withConnection(cluster.coordinator) { admin in
            try await TenantContextKey.forTesting.install(on: admin)
            _ = try await CitusDistribution.distribute(on: admin)
            // Seeded after distributing, so B's rows live on the shards and their triggers ran there.
            try await InjectionWorld.seed(admin)
            let distributed = try await admin.fetchOne("SELECT count(*)::int FROM pg_dist_partition", as: Int.self)
            #expect(distributed == CitusTablePlan.tenantKit.count)
        }
        print("CitusInjectionTests: world distributed and seeded in \(ContinuousClock.now - started)")

        let context = SignedTenantContext(key: .forTesting, transport: .setLocal)
        var suite = InjectionSuite(
            makeScope: { org, actor, host in OrgScope(orgID: org, actor: actor, context: context, on: host) },
            makeStore: { pool in TenantStore(pool: pool, key: .forTesting, transport: .setLocal) })
        let hex = Array(TenantContextKey.forTesting.hexSecret.utf8)
        let key = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
        suite.extraSecrets = [InjectionSecret("the context signing key (TenantContextKey.forTesting)", .bytes(key))]
        suite.sharedWorld = InjectionSharedWorld(database: cluster.coordinator, nodes: cluster.nodes)
        // As docs/scaling.md asks of a pool on a coordinator: a tainted connection is closed, and
        // its worker sessions with it (a reset would leave them).
        suite.taintedConnections = .close
        // The cluster's hops make a statement slower than on one server.
        suite.timeLimit = .seconds(60)

        let filter = ProcessInfo.processInfo.environment["TENANTKIT_INJECTION_FILTER"] ?? ""
        let report = try await suite.run { attack, _ in filter.isEmpty || attack.name.contains(filter) }
        print("CitusInjectionTests: \(report)\n\(report.table)")
        if let path = ProcessInfo.processInfo.environment["TENANTKIT_INJECTION_REPORT"], !path.isEmpty {
            let details = report.results.map(\.description).joined(separator: "\n")
            try "\(report.table)\n\n\(report)\n\nEvery run:\n\(details)\n".write(toFile: path, atomically: true, encoding: .utf8)
        }
        // Every attack of the corpus ran, as every one of its attackers.
        let expected = InjectionCorpus.all.filter { filter.isEmpty || $0.name.contains(filter) }.reduce(0) { $0 + $1.attackers.count }
        #expect(report.results.count == expected)
        // Including the PREPARE TRANSACTION attacks: Citus needs max_prepared_transactions > 0, and
        // every node's prepare guard (checked by CitusTestCluster.make and distribute) refuses them.
        #expect(report.failures.isEmpty, "not contained on the cluster:\n\(report.failures.map(\.description).joined(separator: "\n"))")
    }
}
