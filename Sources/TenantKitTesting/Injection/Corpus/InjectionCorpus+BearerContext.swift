import Foundation
import TenantKitPostgres
import TenantSQL

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
        // The entry points take their user from the verified claim (0014): the attacker names B's
        // admin the only ways left, the old bearer settings, and gets its own standing back.
        InjectionAttack(
            "tenantkit_user_organizations() after claiming to be B's admin lists B's org",
            finding: .bearerContext,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: [
                .transaction([
                    "SELECT set_config('tenantkit.user_id', '{{user_b}}', true)",
                    "SELECT * FROM tenantkit_user_organizations()",
                ]),
            ]),
        InjectionAttack(
            "tenantkit_create_organization(phishing name) after claiming to be B's admin plants an org in B's switcher",
            finding: .bearerContext,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: [
                .transaction([
                    "SELECT set_config('tenantkit.user_id', '{{user_b}}', true)",
                    "SELECT tenantkit_create_organization('Re-verify your account at evil.test')",
                ]),
            ]),
        InjectionAttack(
            "invite B's admin by SQL and accept the invitation on their behalf",
            finding: .bearerContext,
            steps: [
                .transaction([
                    """
                    INSERT INTO invitations (email, role, token_hash)
                    VALUES ('{{email_b}}', 'viewer', sha256(convert_to('planted-invitation-token', 'UTF8')))
                    """,
                    "SELECT set_config('tenantkit.user_id', '{{user_b}}', true)",
                    "SELECT * FROM tenantkit_accept_invitation('planted-invitation-token')",
                ]),
            ]),
        // The claim (Schema/0012): 220 hex digits, the fields at fixed offsets (principal at 11,
        // org at 43, backend pid at 139, expiry at 147), the HMAC over the first 156 at 157.
        InjectionAttack(
            "forge a claim for B's org: the own claim with B's org spliced in, its key id and HMAC kept",
            finding: .bearerContext,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: [
                .transaction([
                    """
                    SELECT set_config('tenantkit.claim', overlay(current_setting('tenantkit.claim', true)
                        PLACING replace('{{org_b}}', '-', '') FROM 43 FOR 32), true)
                    """,
                    "SELECT id, name, settings FROM organizations",
                    "SELECT org_id, user_id, role FROM memberships",
                    "SELECT slug, name FROM catalog_items WHERE org_id IS NOT NULL",
                    "SELECT balance FROM ecu_accounts",
                ]),
            ]),
        InjectionAttack(
            "forge a claim naming B's admin in B, with a made-up HMAC",
            finding: .bearerContext,
            attackers: [.adminOfA, .apiKeyOfA],
            steps: [
                .transaction([
                    """
                    SELECT set_config('tenantkit.claim', '11' || substr(current_setting('tenantkit.claim', true), 3, 8)
                        || replace('{{user_b}}', '-', '') || replace('{{org_b}}', '-', '') || repeat('0', 64)
                        || lpad(to_hex(pg_backend_pid()), 8, '0') || lpad(to_hex(extract(epoch FROM now())::bigint + 600), 10, '0')
                        || repeat('0', 64), true)
                    """,
                    "SELECT id, name FROM organizations",
                    "SELECT slug, name FROM catalog_items WHERE org_id IS NOT NULL",
                    "SELECT balance FROM ecu_accounts",
                ]),
            ]),
        InjectionAttack(
            "replay the own claim on another backend (a second connection of the application role)",
            finding: .bearerContext,
            attackers: [.adminOfA, .apiKeyOfA],
            steps: [
                .swift("read the scope's claim, then set it on a connection of its own", typed: [
                    "SELECT current_setting('tenantkit.claim', true)",
                    "SELECT set_config('tenantkit.claim', $1, false)",
                    "SELECT tenantkit.current_org()",
                ]) { context in
                    let claim = try await context.attackerScope().fetchOne(
                        PostgresQuery(unsafeSQL: "SELECT current_setting('tenantkit.claim', true)"), as: String.self)
                    let connection = try await context.connect()
                    var binds = PostgresBindings()
                    try binds.append(claim)
                    _ = try await connection.query(PostgresQuery(unsafeSQL: "SELECT set_config('tenantkit.claim', $1, false)", binds: binds))
                    let org = try await connection.fetchOne(PostgresQuery(unsafeSQL: "SELECT tenantkit.current_org()"), as: UUID?.self)
                    if let org { throw InjectionBreach("a claim signed for one backend verified on another (org \(org))") }
                    return []
                },
            ]),
    ]
}
