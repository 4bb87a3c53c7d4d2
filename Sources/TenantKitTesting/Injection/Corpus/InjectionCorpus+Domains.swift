extension InjectionCorpus {
    /// #10: verifying a domain trusts that the caller checked DNS; its refusal tells which domains
    /// are customers'; case folding may merge a lookalike into a customer's domain.
    static let domains: [InjectionAttack] = [
        InjectionAttack(
            "claim an unclaimed domain without proving control of it",
            finding: .domainAutoJoin,
            steps: .statements(
                "INSERT INTO org_email_domains (domain) VALUES ('{{unclaimed_domain}}')",
                "SELECT tenantkit_verify_org_domain('{{unclaimed_domain}}')"
            )),
        InjectionAttack(
            "domain oracle: verifying B's domain answers differently from an unclaimed one",
            finding: .domainAutoJoin,
            attackers: [.adminOfA],
            steps: [
                .oracle(statements: [
                    "INSERT INTO org_email_domains (domain) VALUES ('{{probe}}')",
                    "SELECT tenantkit_verify_org_domain('{{probe}}')",
                ], secret: "{{b_domain}}", decoy: "not-a-customer.test"),
            ]),
        InjectionAttack(
            "Unicode lookalike of B's domain (İ) auto-joins B where lower() folds it",
            finding: .domainAutoJoin,
            attackers: [.adminOfA],
            steps: [
                .transaction([
                    "UPDATE users SET email = 'intruder@v' || U&'\\0130' || 'staline.test', email_verified = true WHERE id = '{{me}}'",
                    "SELECT * FROM tenantkit_join_by_email_domain('{{me}}')",
                ]),
            ]),
    ]
}
