extension InjectionCorpus {
    /// #6: `users` is global: any org's connection reads every user and may rewrite emails and
    /// their verification, then auto-join the org that owns the domain.
    ///
    /// Since 0013/0014 the application may not INSERT or UPDATE `users` (but `display_name`):
    /// sign-up is `tenantkit_create_user`, a new email `tenantkit_change_email` (the claim's user,
    /// unverified again), verification `tenantkit_verify_email` with the application's signed proof.
    /// Each attack tries the raw write and today's entry points.
    static let users: [InjectionAttack] = [
        InjectionAttack(
            "read every user's email",
            finding: .globalUsers,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: .statements("SELECT id, email, email_verified, display_name FROM users")),
        InjectionAttack(
            "pg_stats shows samples of users' emails",
            finding: .globalUsers,
            attackers: [.viewerOfA],
            steps: .statements("""
                SELECT tablename, attname, most_common_vals::text, histogram_bounds::text FROM pg_stats
                WHERE schemaname = 'public'
                """)),
        InjectionAttack(
            "a failing cast over users prints the email it chokes on",
            finding: .globalUsers,
            attackers: [.viewerOfA],
            steps: .statements("SELECT id FROM users WHERE email LIKE '%@{{b_domain}}' AND email::int > 0")),
        InjectionAttack(
            "tenantkit_user_by_email(<B's admin's email>) shows B's admin's profile",
            finding: .globalUsers,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            // B's admin's id and email are what the attacker already knows (and typed): the rest is not.
            steps: .statements("""
                SELECT id = '{{user_b}}' AS is_b_admin, email, email_verified, display_name FROM tenantkit_user_by_email('{{email_b}}')
                """)),
        InjectionAttack(
            "rewrite another user's email",
            finding: .globalUsers,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: [
                .statement("UPDATE users SET email = 'hijacked@evil.test', email_verified = true WHERE id = '{{user_b}}'"),
                .transaction([
                    "SELECT set_config('tenantkit.user_id', '{{user_b}}', true)",
                    "SELECT tenantkit_change_email('hijacked@evil.test')",
                ]),
                .statement("SELECT tenantkit_verify_email('{{user_b}}', substr(current_setting('tenantkit.claim', true), 3, 8) || repeat('f', 74))"),
            ]),
        InjectionAttack(
            "take an email at B's domain, mark it verified, auto-join B",
            finding: .globalUsers,
            steps: [
                .statement("UPDATE users SET email = 'intruder-' || left(id::text, 8) || '@{{b_domain}}', email_verified = true WHERE id = '{{me}}'"),
                .statement("SELECT tenantkit_change_email('intruder-' || left('{{me}}', 8) || '@{{b_domain}}')"),
                .statement("SELECT tenantkit_verify_email('{{me}}', substr(current_setting('tenantkit.claim', true), 3, 8) || repeat('f', 74))"),
                .statement("SELECT * FROM tenantkit_join_by_email_domain()"),
            ]),
        InjectionAttack(
            "take an email at B's domain by SQL, then sign in through the unmodified API to auto-join B",
            finding: .globalUsers,
            steps: [
                .statement("SELECT tenantkit_change_email('intruder-' || left('{{me}}', 8) || '@{{b_domain}}')"),
                .swift("TenantStore.signIn(userID:)") { context in
                    guard let me = context.principal.userID else { return [] }
                    return try await context.store().signIn(userID: me).map(\.uuidString)
                },
            ]),
        InjectionAttack(
            "sign up a user at B's domain, mark it verified and auto-join it to B",
            finding: .globalUsers,
            attackers: [.adminOfA, .apiKeyOfA],
            steps: [
                .transaction([
                    "INSERT INTO users (email, email_verified) VALUES ('sleeper-agent@{{b_domain}}', true)",
                ]),
                .transaction([
                    "SELECT tenantkit_create_user('sleeper-agent@{{b_domain}}', 'Sleeper')",
                    """
                    SELECT tenantkit_verify_email((SELECT id FROM tenantkit_user_by_email('sleeper-agent@{{b_domain}}')),
                                                  substr(current_setting('tenantkit.claim', true), 3, 8) || repeat('f', 74))
                    """,
                    "SELECT set_config('tenantkit.user_id', (SELECT id::text FROM tenantkit_user_by_email('sleeper-agent@{{b_domain}}')), true)",
                    "SELECT * FROM tenantkit_join_by_email_domain()",
                ]),
            ]),
    ]
}
