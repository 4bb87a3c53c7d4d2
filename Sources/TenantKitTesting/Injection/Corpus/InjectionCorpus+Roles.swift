import TenantKit

extension InjectionCorpus {
    /// #9: who may change members, invite, mint keys and manage domains is checked only in Swift.
    static let roles: [InjectionAttack] = [
        InjectionAttack(
            "a viewer makes itself admin",
            finding: .rolesOnlyInSwift,
            attackers: [.viewerOfA],
            steps: .statements("UPDATE memberships SET role = 'admin' WHERE user_id = '{{me}}'")),
        InjectionAttack(
            "a viewer removes the admins",
            finding: .rolesOnlyInSwift,
            attackers: [.viewerOfA],
            steps: .statements("DELETE FROM memberships WHERE role = 'admin'")),
        InjectionAttack(
            "a viewer or key mints an API key by SQL",
            finding: .rolesOnlyInSwift,
            attackers: [.viewerOfA, .apiKeyOfA],
            steps: .statements("""
                INSERT INTO api_keys (name, prefix, key_hash) VALUES ('backdoor', 'tk_0badc0de', sha256(convert_to('tk_0badc0de_backdoor', 'UTF8')))
                """)),
        InjectionAttack(
            "a viewer or key invites an accomplice as admin",
            finding: .rolesOnlyInSwift,
            attackers: [.viewerOfA, .apiKeyOfA],
            steps: .statements("""
                INSERT INTO invitations (email, role, token_hash) VALUES ('accomplice@evil.test', 'admin', sha256(convert_to('accomplice', 'UTF8')))
                """)),
        InjectionAttack(
            "a viewer or key registers and enables an email domain",
            finding: .rolesOnlyInSwift,
            attackers: [.viewerOfA, .apiKeyOfA],
            steps: .statements(
                "INSERT INTO org_email_domains (domain, default_role) VALUES ('accomplices.test', 'member')",
                "UPDATE org_email_domains SET default_role = 'member', enabled = false"
            )),
        InjectionAttack(
            "a viewer escalates by SQL, then mints a key through the unmodified API",
            finding: .rolesOnlyInSwift,
            attackers: [.viewerOfA],
            steps: [
                .statement("UPDATE memberships SET role = 'admin' WHERE user_id = '{{me}}'"),
                .swift("apiKeys.create after escalating") { context in
                    let key = try await context.attackerRepositories().apiKeys.create(name: "after escalation")
                    return [key.secret]
                },
            ]),
    ]
}
