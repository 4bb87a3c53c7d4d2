import Foundation
import TenantKitPostgres
import TenantSQL

extension InjectionCorpus {
    /// #12: scopes of two orgs on one `PostgresConnection` (documented API): whichever task sends
    /// next on the connection picks up the other's open transaction and context.
    static let sharedConnection: [InjectionAttack] = [
        InjectionAttack(
            "A's transaction on a connection shared with B reads B after B's statement slips into it",
            finding: .sharedConnectionTransaction,
            attackers: [.adminOfA, .apiKeyOfA],
            steps: [
                .swift("A opens a transaction, B queries on the same connection, A reads", typed: ["SELECT id, name FROM organizations"]) { context in
                    let connection = try await context.connect()
                    let attacker = context.attackerScope(on: connection)
                    let victim = context.victimScope(on: connection)
                    let opened = InjectionGate(), victimDone = InjectionGate()
                    // B's request on the shared connection, once A's transaction is open.
                    let victimRequest = Task {
                        guard await opened.wait(upTo: .seconds(5)) else { return }
                        _ = try? await within(.seconds(2)) { try await victim.query("SELECT count(*) FROM catalog_items") }
                        victimDone.open()
                    }
                    let seen = try await attacker.transaction { tx -> [String] in
                        opened.open()
                        _ = await victimDone.wait(upTo: .seconds(3))
                        let rows = try await tx.query(PostgresQuery(unsafeSQL: "SELECT id, name FROM organizations"))
                        return try rows.map { row in
                            let (id, name) = try row.decode(UUID.self, String.self)
                            return "\(id.uuidString.lowercased()) \(name)"
                        }
                    }
                    _ = await victimRequest.result
                    return seen
                },
            ]),
    ]
}
