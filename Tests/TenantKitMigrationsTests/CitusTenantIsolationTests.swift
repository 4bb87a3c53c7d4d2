import Foundation
import TenantKit
import TenantKitDoctor
import TenantKitMigrations
import TenantKitPostgres
import Testing

/// Moving one large organization to a shard, then a node, of its own (docs/scaling.md), on the
/// distributed schema. Part of the opt-in `CitusDistributionTests`.
extension CitusTestCluster {
    /// `isolate_tenant_to_new_shard` with `CASCADE` splits the org's shard of every co-located
    /// table; `citus_move_shard_placement` moves the group to the other worker. Afterwards each new
    /// shard holds that org's rows alone, every placement keeps its RLS and policies (doctor agrees),
    /// the org's statements still route to one shard, and another org sees none of it.
    func isolatingATenantKeepsItsWall() async throws {
        let pool = PostgresPool(configuration: coordinator.with(user: "tenantkit_app"), maxConnections: 1, taintedConnections: .close)
        let operators = PostgresPool(configuration: coordinator, maxConnections: 1)
        let store = TenantStore(pool: pool, key: Self.key, transport: .setLocal)
        func tenant(_ name: String) async throws -> (org: UUID, active: ActiveOrg, item: UUID, run: UUID) {
            let user = try await store.createUser(email: "\(name.lowercased())@isolated.test", emailVerified: true)
            let org = try await store.createOrganization(named: name, by: user.id)
            let active = ActiveOrg(scope: store.scope(org, as: .user(user.id)))
            _ = try await store.platformOperator(UUID(), in: org, on: operators).credits.grant(50, reason: "bought", idempotencyKey: "grant")
            let item = try await active.catalog.create(kind: "model", slug: "\(name.lowercased())-model", name: "\(name) model")
            let run = try await active.runs.start(itemID: item.id, cost: 5, idempotencyKey: "first")
            return (org, active, item.id, run.id)
        }
        let big = try await tenant("Globex"), small = try await tenant("Hooli")

        struct Placement: Decodable { let table: String; let shardid: Int64; let port: Int }
        let distributed = CitusTablePlan.tenantKit.filter { $0.kind == .distributed }.map(\.table)
        func placements(of org: UUID) async throws -> [Placement] {
            try await withConnection(coordinator) { c in
                try await c.fetchAll("""
                    SELECT t.name AS table, s.shardid, p.nodeport AS port
                    FROM unnest(\(distributed)::text[]) AS t(name),
                         LATERAL (SELECT get_shard_id_for_distribution_column(t.name, \(org)) AS shardid) s
                    JOIN pg_dist_shard_placement p USING (shardid) ORDER BY t.name
                    """, as: Placement.self)
            }
        }
        let before = try await placements(of: big.org)
        let isolated = try await withConnection(coordinator) { c in
            try await c.fetchOne(
                "SELECT isolate_tenant_to_new_shard('runs', \(big.org), 'CASCADE', shard_transfer_mode => 'block_writes')", as: Int64.self)
        }
        let split = try await placements(of: big.org)
        #expect(split.first { $0.table == "runs" }?.shardid == isolated)
        #expect(Set(split.map(\.shardid)).isDisjoint(with: before.map(\.shardid)), "every co-located table got a new shard")
        #expect(Set(split.map(\.port)).count == 1, "one node holds the org's shard group: \(split)")

        // To the other worker: the org's data now has a node of its own (of this cluster's two).
        let from = try #require(split.first).port
        let to = try #require(nodes.dropFirst().compactMap { Int($0.port ?? "") }.first { $0 != from })
        try await withConnection(coordinator) { c in
            _ = try await c.fetchAll("""
                SELECT citus_move_shard_placement(\(isolated), '127.0.0.1', \(from)::int, '127.0.0.1', \(to)::int, shard_transfer_mode => 'block_writes')::text
                """, as: String?.self)
        }
        let moved = try await placements(of: big.org)
        #expect(moved.allSatisfy { $0.port == to }, "\(moved)")

        try await withConnection(coordinator) { c in
            // Each new shard holds the org's rows and nobody else's.
            for placement in moved {
                let others = try await c.fetchAll("""
                    SELECT result FROM run_command_on_placements(\(placement.table)::regclass,
                        'SELECT count(*) FILTER (WHERE org_id <> ' || quote_literal(\(big.org)) || ') || '':'' || count(*) FROM %s')
                    WHERE shardid = \(placement.shardid)
                    """, as: String.self)
                #expect(others.count == 1 && others[0].hasPrefix("0:"), "\(placement.table): \(others)")
            }
            let withoutRLS = try await c.fetchAll(CitusDistributionTests.placementsWithoutRLS, as: String.self)
            #expect(withoutRLS == [], "placements without RLS or policies after the split and the move: \(withoutRLS)")
        }
        let doctor = try await Doctor.check(configuration: coordinator.with(user: "tenantkit_app"))
        #expect(doctor.findings.filter { $0.check == .placementRLS } == [])

        // The org works as before, on its node; the other org sees none of it.
        #expect(try await big.active.runs.run(big.run).catalogItemID == big.item)
        #expect(try await big.active.catalog.page().items.map(\.id).contains(big.item))
        _ = try await big.active.runs.start(itemID: big.item, cost: 5, idempotencyKey: "after the move")
        #expect(try await big.active.runs.page().items.count == 2)
        #expect(try await small.active.runs.page().items.map(\.id) == [small.run])
        #expect(try await !small.active.catalog.page().items.map(\.id).contains(big.item))
        await #expect(throws: TenantError.notFound("run \(big.run)")) { try await small.active.runs.run(big.run) }
        await pool.close()
        await operators.close()
    }
}
