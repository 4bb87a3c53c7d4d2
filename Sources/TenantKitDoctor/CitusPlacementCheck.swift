import TenantKitMigrations
import TenantKitPostgres

extension Doctor {
    /// On a Citus coordinator the tables the application queries are shells: each statement runs on
    /// the shard placements, on the workers, and only their own row-level security holds there. One
    /// finding per placement whose RLS (enabled, forced) or policy count differs from its table's,
    /// checked on the node that holds it; and one when the placements cannot be reached.
    static func placementFindings(_ connection: PostgresConnection, role: String) async throws -> [DoctorFinding] {
        struct Placement: Decodable {
            let relation: String; let shardid: Int; let node: String; let success: Bool; let result: String; let expected: String
        }
        let placements: [Placement]
        do {
            // The remote-command functions are closed to the application (CitusDistribution); this
            // definer runs one fixed command with them.
            placements = try await connection.fetchAll(
                "SELECT relation, shardid, node, success, result, expected FROM tenantkit.citus_placement_security()", as: Placement.self)
        } catch let error as PostgresError {
            return [DoctorFinding(
                .placementRLS, "the shard placements",
                "cannot be checked from this role (\(error.message)): the coordinator enforces no row-level security of its own; "
                    + "run tenantkit citus distribute, which creates tenantkit.citus_placement_security()")]
        }
        var findings = try await connection.fetchAll(CitusDistribution.remoteCommands(executableBy: role), as: String.self).map {
            DoctorFinding(
                .citusRemoteCommand, "function \($0)",
                "may be executed by the connected role: it runs any SQL on the workers, where the prepare guard is not: "
                    + "run tenantkit citus distribute, which revokes it from PUBLIC")
        }
        findings += placements.compactMap { placement in
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
        return findings
    }
}
