import Foundation

extension InjectionCorpus {
    /// #5: with `tenantkit.org_id` empty, the ledger trigger skips its org check and does B's work
    /// (lock B's account, read its balance and idempotency keys) before the policy rejects the row.
    static let triggerOracles: [InjectionAttack] = [
        InjectionAttack(
            "balance oracle: an overdraft posted to B with an empty org setting names B's balance",
            finding: .triggerOracles,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: [
                .transaction([
                    "SELECT set_config('tenantkit.org_id', '', true)",
                    "INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key) VALUES ('{{org_b}}', -999999999999, 'oracle', 'oracle-1')",
                ]),
            ]),
        InjectionAttack(
            "idempotency-key oracle: a posting to B with one of B's keys answers differently",
            finding: .triggerOracles,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: [
                .oracle(statements: [
                    "SELECT set_config('tenantkit.org_id', '', true)",
                    "INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key) VALUES ('{{org_b}}', 1, 'oracle', '{{probe}}')",
                ], secret: "{{b_idempotency_key}}", decoy: "vistaline-invoice-0000"),
            ]),
        InjectionAttack(
            "row lock on B's account held through the ledger trigger: B's debit waits",
            finding: .triggerOracles,
            attackers: [.adminOfA, .apiKeyOfA],
            steps: [
                .swift("hold B's account lock in A's transaction while B debits", typed: [
                    "SELECT set_config('tenantkit.org_id', '', true)",
                    "INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key) VALUES ('{{org_b}}', 1, 'hold', '{{b_idempotency_key}}')",
                ]) { context in
                    let victimPool = context.makePool()
                    let hold = [
                        context.sql("SELECT set_config('tenantkit.org_id', '', true)"),
                        context.sql("INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key) VALUES ('{{org_b}}', 1, 'hold', '{{b_idempotency_key}}')"),
                    ]
                    try await InjectionCorpus.whileAttackerHolds(hold, context: context) {
                        // B's own debit, rolled back: only whether it has to wait matters.
                        try await InjectionCorpus.rolledBack(
                            context.victimScope(on: victimPool),
                            "INSERT INTO ecu_ledger (amount, reason, idempotency_key) VALUES (-1, 'victim debit', 'victim-debit-1')")
                    } blocked: { "B's debit waited on a lock org A held on B's account" }
                    return []
                },
            ]),
    ]
}
