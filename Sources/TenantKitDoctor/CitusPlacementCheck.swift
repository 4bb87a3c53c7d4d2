import TenantKitMigrations
import TenantKitPostgres

extension Doctor {
    /// On a Citus coordinator the tables the application queries are shells: each statement runs on
    /// the shard placements, on the workers, and only their own row-level security holds there. One
    /// finding per placement whose RLS (enabled, forced) or policy count differs from its table's,
    /// checked on the node that holds it; and one when the placements cannot be reached.
    static func placementFindings(_ connection: PostgresConnection) async throws -> [DoctorFinding] {
        struct Placement: Decodable {
            let relation: String; let shardid: Int; let node: String; let success: Bool; let result: String; let expected: String
        }
        let placements: [Placement]
        do {
            placements = try await connection.fetchAll("""
                SELECT s.logicalrelid::regclass::text AS relation, s.shardid, r.nodename || ':' || r.nodeport AS node,
                       r.success, r.result,
                       (t.relrowsecurity AND t.relforcerowsecurity)::text || ':'
                           || (SELECT count(*) FROM pg_catalog.pg_policy p WHERE p.polrelid = s.logicalrelid) AS expected
                FROM pg_catalog.pg_dist_shard s
                JOIN pg_catalog.pg_class t ON t.oid = s.logicalrelid,
                     LATERAL run_command_on_placements(s.logicalrelid,
                         $$SELECT (c.relrowsecurity AND c.relforcerowsecurity)::text || ':'
                                  || (SELECT count(*) FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid)
                             FROM pg_catalog.pg_class c WHERE c.oid = '%s'::regclass$$) r
                WHERE r.shardid = s.shardid
                  AND (t.relrowsecurity OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                                                    WHERE a.attrelid = t.oid AND a.attname = 'org_id' AND NOT a.attisdropped))
                ORDER BY 1, 2, 3
                """, as: Placement.self)
        } catch let error as PostgresError {
            return [DoctorFinding(
                .placementRLS, "the shard placements",
                "cannot be checked from this role (\(error.message)): the coordinator enforces no row-level security of its own; "
                    + "run doctor as a role that reaches the workers")]
        }
        return placements.compactMap { placement in
            let subject = "shard \(placement.shardid) of \(placement.relation) on \(placement.node)"
            if !placement.success {
                return DoctorFinding(.placementRLS, subject, "cannot be checked: \(placement.result)")
            }
            guard placement.result != placement.expected else { return nil }
            return DoctorFinding(
                .placementRLS, subject,
                "has row-level security (enabled and forced) and policies \(placement.result), its table \(placement.expected): "
                    + "statements run on the placement, so only its own RLS holds there")
        }
    }
}
