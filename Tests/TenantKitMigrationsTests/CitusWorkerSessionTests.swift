import Foundation
import TenantKitPostgres
import Testing

/// A coordinator's backend keeps its own connections to the workers, and `DISCARD ALL` on it does
/// not reach them: a pool that resets a tainted connection leaves the worker sessions (and any
/// setting an injection sent there) for the next lease; one that closes it ends them. Part of the
/// opt-in `CitusDistributionTests`.
extension CitusTestCluster {
    func taintedConnectionsTakeTheirWorkerSessionsAlongOnlyWhenClosed() async throws {
        for policy in [TaintedConnections.reset, .close] {
            let pool = PostgresPool(configuration: coordinator, maxConnections: 1, taintedConnections: policy)
            let gpid = try await pool.withConnection { c in
                // Dynamic text (it taints the connection) that reaches every worker's shards.
                _ = try await c.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM runs"))
                return try await c.fetchOne("SELECT citus_backend_gpid()", as: Int64.self)
            }
            _ = try await pool.withConnection { try await $0.query("SELECT 1") }  // the next lease
            // Sessions a worker holds for that coordinator backend; a closed backend's end shortly after it.
            func workerSessions() async throws -> Int {
                var total = 0
                for worker in maintenance.dropFirst() {
                    total += try await withConnection(worker) { c in
                        try await c.fetchOne(
                            "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = \("citus_internal gpid=\(gpid)")", as: Int.self)
                    }
                }
                return total
            }
            var sessions = try await workerSessions()
            for _ in 0..<40 where policy == .close && sessions > 0 {
                try await Task.sleep(for: .milliseconds(50))
                sessions = try await workerSessions()
            }
            if policy == .reset {
                #expect(sessions > 0, "after DISCARD ALL the coordinator backend's worker sessions are still there")
            } else {
                #expect(sessions == 0, "closing the tainted connection ended its worker sessions")
            }
            await pool.close()
        }
    }
}
