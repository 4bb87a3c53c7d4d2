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
            "a run whose debit does not count: an idempotency key already posted, or one ECU for a 500 ECU run",
            finding: .mintedCredits,
            attackers: [.adminOfA, .apiKeyOfA],
            steps: [
                .transaction([
                    """
                    INSERT INTO runs (id, catalog_item_id, cost, status, user_id)
                    VALUES ('11111111-1111-4111-8111-111111111111', '{{public_item}}', 500, 'succeeded', nullif('{{me}}', '')::uuid)
                    """,
                    """
                    INSERT INTO ecu_ledger (amount, reason, idempotency_key, run_id)
                    VALUES (-500, 'a key already posted: the trigger skips the row', 'initech-invoice-1', '11111111-1111-4111-8111-111111111111')
                    """,
                ]),
                .transaction([
                    """
                    INSERT INTO runs (id, catalog_item_id, cost, status, user_id)
                    VALUES ('22222222-2222-4222-8222-222222222222', '{{public_item}}', 500, 'succeeded', nullif('{{me}}', '')::uuid)
                    """,
                    """
                    INSERT INTO ecu_ledger (amount, reason, idempotency_key, run_id)
                    VALUES (-1, 'one ECU for a 500 ECU run', 'cheap-run-1', '22222222-2222-4222-8222-222222222222')
                    """,
                ]),
            ]),
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
                // The operator path, signed with the application's own key but on the application's
                // login (what a stolen key and password give): operator claims need an operator login.
                .swift("store.platformOperator(_:in:on:) on the application's pool, then credits.grant") { context in
                    let me = context.principal.userID ?? context.world.adminOfA
                    let entry = try await context.store().platformOperator(me, in: context.world.orgA, on: context.pool).credits.grant(
                        1_000_000_000_000, reason: "operator top-up from the app login", idempotencyKey: "self-grant-2")
                    return ["\(entry.balanceAfter)"]
                },
            ]),
    ]
}
