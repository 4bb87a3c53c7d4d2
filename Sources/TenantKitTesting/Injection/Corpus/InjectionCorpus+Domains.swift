extension InjectionCorpus {
    /// A proof in the format of Schema/0012 (the claim's key id, a far expiry) with a made-up HMAC:
    /// what an injection can put where `tenantkit_verify_org_domain` wants the application's signature.
    static let madeUpProof = "substr(current_setting('tenantkit.claim', true), 3, 8) || repeat('f', 74)"

    /// #10: verifying a domain trusts that the caller checked DNS; its refusal tells which domains
    /// are customers'; case folding may merge a lookalike into a customer's domain.
    ///
    /// Since 0014 verification takes a TenantKit-issued challenge (`tenantkit_issue_domain_challenge`,
    /// admins only) and the application's signed proof that it found it in DNS; emails and domains
    /// are plain ASCII. The attacks go through those entry points, with everything but the signature.
    static let domains: [InjectionAttack] = [
        InjectionAttack(
            "claim an unclaimed domain without proving control of it",
            finding: .domainAutoJoin,
            steps: [
                .transaction([
                    "INSERT INTO org_email_domains (domain) VALUES ('{{unclaimed_domain}}')",
                    "SELECT set_config('tk.challenge', tenantkit_issue_domain_challenge('{{unclaimed_domain}}'), true) IS NOT NULL",
                    "SELECT tenantkit_verify_org_domain('{{unclaimed_domain}}', current_setting('tk.challenge'), \(madeUpProof))",
                ]),
            ]),
        InjectionAttack(
            "domain oracle: verifying B's domain answers differently from an unclaimed one",
            finding: .domainAutoJoin,
            attackers: [.adminOfA],
            steps: [
                .oracle(statements: [
                    "INSERT INTO org_email_domains (domain) VALUES ('{{probe}}')",
                    "SELECT set_config('tk.challenge', tenantkit_issue_domain_challenge('{{probe}}'), true) IS NOT NULL",
                    "SELECT tenantkit_verify_org_domain('{{probe}}', current_setting('tk.challenge'), \(madeUpProof))",
                ], secret: "{{b_domain}}", decoy: "not-a-customer.test"),
            ]),
        InjectionAttack(
            "Unicode lookalike of B's domain (İ) auto-joins B where lower() folds it",
            finding: .domainAutoJoin,
            attackers: [.adminOfA],
            steps: [
                .transaction([
                    "UPDATE users SET email = 'intruder@v' || U&'\\0130' || 'staline.test', email_verified = true WHERE id = '{{me}}'",
                ]),
                .transaction([
                    "SELECT tenantkit_change_email('intruder@v' || U&'\\0130' || 'staline.test')",
                    "SELECT * FROM tenantkit_join_by_email_domain()",
                ]),
                .transaction([
                    "SELECT tenantkit_change_email('intruder@VISTALINE.TEST')",
                    "SELECT * FROM tenantkit_join_by_email_domain()",
                ]),
            ]),
    ]
}
