import TenantKit

extension InjectionCorpus {
    /// #8: ECU is bought: a grant is a platform operator's act, and a run cannot exist without its debit.
    static let credits: [InjectionAttack] = [
        InjectionAttack(
            "mint credits with a positive ledger insert",
            finding: .mintedCredits,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: .statements("""
                INSERT INTO ecu_ledger (amount, reason, idempotency_key) VALUES (1000000000000, 'free credits', 'minted-1')
                """)),
        InjectionAttack(
            "insert a run without its debit",
            finding: .mintedCredits,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: .statements("""
                INSERT INTO runs (catalog_item_id, cost, status, user_id)
                VALUES ('{{public_item}}', 500, 'succeeded', nullif('{{me}}', '')::uuid)
                """)),
        InjectionAttack(
            "an org admin grants its own org 10^12 ECU through the unmodified API",
            finding: .mintedCredits,
            attackers: [.adminOfA],
            steps: [
                .swift("credits.grant(1_000_000_000_000)") { context in
                    let entry = try await context.attackerRepositories().credits.grant(
                        1_000_000_000_000, reason: "self-service top-up", idempotencyKey: "self-grant-1")
                    return ["\(entry.balanceAfter)"]
                },
            ]),
    ]
}
