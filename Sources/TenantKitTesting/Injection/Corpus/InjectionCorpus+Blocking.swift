import Foundation
import TenantKitPostgres
import TenantSQL

extension InjectionCorpus {
    /// How long a victim may wait on the attacker before it counts as blocked.
    static let blockingLimit: Duration = .milliseconds(1500)

    /// Runs `statements` in the attacker's scoped transaction and, while it is open, `victim` (on a
    /// pool of its own); throws ``InjectionBreach`` with `blocked()` when the victim could not finish
    /// within ``blockingLimit``, and when it failed (its work is legitimate: a failure is an effect
    /// of the attack, or a broken check, never a pass).
    static func whileAttackerHolds(
        _ statements: [String],
        context: InjectionContext,
        victim: @escaping @Sendable () async throws -> Void,
        blocked: () -> String
    ) async throws {
        let outcome = try await context.attackerScope().transaction { tx -> String? in
            for sql in statements { _ = try await tx.query(PostgresQuery(unsafeSQL: sql)) }
            do {
                return try await within(blockingLimit) { try await victim() } == nil ? "blocked" : nil
            } catch {
                return "the victim's work failed while the attacker held its transaction open: \(InjectionSuite.brief(error))"
            }
        }
        switch outcome {
        case nil: return
        case "blocked": throw InjectionBreach(blocked())
        case let failure?: throw InjectionBreach(failure)
        }
    }

    /// Runs `query` as `scope`'s principal in a transaction that is always rolled back: a victim's
    /// write whose only point is whether it has to wait.
    static func rolledBack(_ scope: OrgScope, _ query: PostgresQuery) async throws {
        struct RollBack: Error {}
        do {
            try await scope.transaction { tx in
                _ = try await tx.query(query)
                throw RollBack()
            }
        } catch is RollBack {}
    }
}
