import TenantKit

extension InjectionCorpus {
    /// #11: a user removed from B, or a revoked key of B, still holding a scope of B (a live
    /// session made before the removal) keeps reading B.
    static let staleStanding: [InjectionAttack] = [
        InjectionAttack(
            "a stale scope of B reads B's catalog, members, balance and audit log by SQL",
            finding: .removedMemberReads,
            attackers: [.removedFromB, .revokedKeyOfB],
            steps: .statements(
                "SELECT id, name, settings FROM organizations",
                "SELECT slug, name, metadata FROM catalog_items WHERE org_id IS NOT NULL",
                "SELECT u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id",
                "SELECT balance FROM ecu_accounts",
                "SELECT action, target, details FROM audit_log"
            )),
        InjectionAttack(
            "a removed member's live session keeps reading B through the unmodified API",
            finding: .removedMemberReads,
            attackers: [.removedFromB],
            steps: [
                .swift("catalog.page, members.list, credits.balance, audit.list in B") { context in
                    let org = context.attackerRepositories()
                    var seen: [String] = []
                    seen += try await org.catalog.page().items.map { "\($0.slug) \($0.name) \($0.metadata)" }
                    seen += try await org.members.list().map { "\($0.email) \($0.role)" }
                    seen.append("\(try await org.credits.balance())")
                    seen += try await org.audit.page().items.map { "\($0.action) \($0.target ?? "") \($0.details)" }
                    return seen
                },
            ]),
    ]
}
