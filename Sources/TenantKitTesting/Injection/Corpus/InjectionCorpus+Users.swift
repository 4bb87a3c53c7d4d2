extension InjectionCorpus {
    /// #6: `users` is global: any org's connection reads every user and may rewrite emails and
    /// their verification, then auto-join the org that owns the domain.
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
            "rewrite another user's email",
            finding: .globalUsers,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: .statements("UPDATE users SET email = 'hijacked@evil.test', email_verified = true WHERE id = '{{user_b}}'")),
        InjectionAttack(
            "take an email at B's domain, mark it verified, auto-join B",
            finding: .globalUsers,
            steps: [
                .transaction([
                    """
                    UPDATE users SET email = 'intruder-' || left(id::text, 8) || '@{{b_domain}}', email_verified = true
                    WHERE id = '{{me}}'
                    """,
                    "SELECT * FROM tenantkit_join_by_email_domain('{{me}}')",
                ]),
            ]),
        InjectionAttack(
            "take an email at B's domain by SQL, then sign in through the unmodified API to auto-join B",
            finding: .globalUsers,
            steps: [
                .statement("""
                    UPDATE users SET email = 'intruder-' || left(id::text, 8) || '@{{b_domain}}', email_verified = true
                    WHERE id = '{{me}}'
                    """),
                .swift("TenantStore.signIn(userID:)") { context in
                    guard let me = context.principal.userID else { return [] }
                    return try await context.store().signIn(userID: me).map(\.uuidString)
                },
            ]),
        InjectionAttack(
            "insert a verified user at B's domain and auto-join it to B",
            finding: .globalUsers,
            attackers: [.adminOfA, .apiKeyOfA],
            steps: [
                .transaction([
                    "INSERT INTO users (email, email_verified) VALUES ('sleeper-agent@{{b_domain}}', true)",
                    "SELECT * FROM tenantkit_join_by_email_domain((SELECT id FROM users WHERE email = 'sleeper-agent@{{b_domain}}'))",
                ]),
            ]),
    ]
}
