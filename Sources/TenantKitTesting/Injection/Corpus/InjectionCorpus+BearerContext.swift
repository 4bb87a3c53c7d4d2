extension InjectionCorpus {
    /// #2: the org context policies trust is whatever the session says; the entry points take the
    /// user they act for from an argument. Also forged and replayed claims of the signed context.
    static let bearerContext: [InjectionAttack] = [
        InjectionAttack(
            "set_config to B's org, then read all of B",
            finding: .bearerContext,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: [
                .transaction([
                    "SELECT set_config('tenantkit.org_id', '{{org_b}}', true)",
                    "SELECT * FROM organizations",
                    "SELECT * FROM memberships",
                    "SELECT * FROM catalog_items",
                    "SELECT * FROM api_keys",
                    "SELECT * FROM ecu_accounts",
                    "SELECT * FROM invitations",
                    "SELECT * FROM audit_log",
                ]),
            ]),
        InjectionAttack(
            "one statement: set_config to B's org in the select list, then a sub-select as B",
            finding: .bearerContext,
            steps: [
                .statement("""
                    SELECT set_config('tenantkit.org_id', '{{org_b}}', true) AS switched,
                           (SELECT string_agg(name || ' ' || settings::text, ',') FROM organizations) AS orgs,
                           (SELECT string_agg(slug || ' ' || name, ',') FROM catalog_items WHERE org_id IS NOT NULL) AS items
                    """),
            ]),
        InjectionAttack(
            "SET LOCAL tenantkit.org_id to B's org, then make the attacker admin of B",
            finding: .bearerContext,
            steps: [
                .transaction([
                    "SET LOCAL tenantkit.org_id = '{{org_b}}'",
                    "INSERT INTO memberships (org_id, user_id, role) VALUES ('{{org_b}}', '{{me}}', 'admin')",
                ]),
            ]),
        InjectionAttack(
            "set_config to B's org, then deface B and credit it",
            finding: .bearerContext,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: [
                .transaction([
                    "SELECT set_config('tenantkit.org_id', '{{org_b}}', true)",
                    "UPDATE catalog_items SET name = 'defaced by org A' WHERE org_id = '{{org_b}}'",
                    "UPDATE organizations SET settings = '{\"defaced\": true}' WHERE id = '{{org_b}}'",
                    "INSERT INTO ecu_ledger (amount, reason, idempotency_key) VALUES (-1, 'spent by org A', 'defaced-1')",
                ]),
            ]),
        InjectionAttack(
            "tenantkit_user_organizations(<B's admin>) lists B's org",
            finding: .bearerContext,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: .statements("SELECT * FROM tenantkit_user_organizations('{{user_b}}')")),
        InjectionAttack(
            "tenantkit_create_organization(<B's admin>, phishing name) plants an org in B's switcher",
            finding: .bearerContext,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: .statements("SELECT tenantkit_create_organization('{{user_b}}', 'Re-verify your account at evil.test')")),
        InjectionAttack(
            "invite B's admin by SQL and accept the invitation on their behalf",
            finding: .bearerContext,
            steps: [
                .transaction([
                    """
                    INSERT INTO invitations (email, role, token_hash)
                    SELECT email, 'viewer', sha256(convert_to('planted-invitation-token', 'UTF8')) FROM users WHERE id = '{{user_b}}'
                    """,
                    "SELECT * FROM tenantkit_accept_invitation('{{user_b}}', 'planted-invitation-token')",
                ]),
            ]),
        InjectionAttack(
            "forge a claim for B's org, reusing the own claim's key id and HMAC",
            finding: .bearerContext,
            steps: [
                .transaction([
                    """
                    SELECT set_config('tenantkit.claim', concat_ws('.', 'v1',
                        split_part(current_setting('tenantkit.claim', true), '.', 2), 'u', '{{me}}', '{{org_b}}',
                        pg_backend_pid(), extract(epoch FROM now())::bigint + 600,
                        split_part(current_setting('tenantkit.claim', true), '.', 8)), true)
                    """,
                    "SELECT id, name FROM organizations",
                    "SELECT org_id, user_id, role FROM memberships",
                    "SELECT slug, name FROM catalog_items WHERE org_id IS NOT NULL",
                ]),
            ]),
        InjectionAttack(
            "forge a claim naming B's admin in B, with a made-up HMAC",
            finding: .bearerContext,
            attackers: [.adminOfA, .apiKeyOfA],
            steps: [
                .transaction([
                    """
                    SELECT set_config('tenantkit.claim', concat_ws('.', 'v1',
                        split_part(current_setting('tenantkit.claim', true), '.', 2), 'u', '{{user_b}}', '{{org_b}}',
                        pg_backend_pid(), extract(epoch FROM now())::bigint + 600, repeat('0', 64)), true)
                    """,
                    "SELECT id, name FROM organizations",
                    "SELECT slug, name FROM catalog_items WHERE org_id IS NOT NULL",
                    "SELECT balance FROM ecu_accounts",
                ]),
            ]),
    ]
}
