extension InjectionCorpus {
    /// #7: the app names the actor of its audit entries; the log and its chain heads must stay
    /// append-only and unforgeable for every role (the owner's rewrite is under #1).
    static let audit: [InjectionAttack] = [
        InjectionAttack(
            "forge the user an audit entry names",
            finding: .auditChain,
            steps: .statements("""
                INSERT INTO audit_log (action, target, actor_user_id, actor_api_key_id)
                VALUES ('member.role_changed', 'forged', '{{other_member_a}}', NULL)
                """)),
        InjectionAttack(
            "forge an API-key actor on an audit entry",
            finding: .auditChain,
            attackers: [.adminOfA, .viewerOfA],
            steps: .statements("""
                INSERT INTO audit_log (action, target, actor_user_id, actor_api_key_id) VALUES ('api.export', 'forged', NULL, '{{a_key}}')
                """)),
        InjectionAttack(
            "append to B's audit log",
            finding: .auditChain,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: [
                .transaction([
                    "SELECT set_config('tenantkit.org_id', '{{org_b}}', true)",
                    "INSERT INTO audit_log (org_id, action, target) VALUES ('{{org_b}}', 'org.deleted', 'forged by org A')",
                ]),
            ]),
        InjectionAttack(
            "check or checkpoint B's audit chain (an oracle on B's head)",
            finding: .auditChain,
            attackers: [.adminOfA, .apiKeyOfA],
            steps: [
                .statement("SELECT * FROM tenantkit_audit_verify_checkpoint('{{org_b}}', 1, sha256('x'::bytea), sha256('y'::bytea))"),
                .transaction([
                    "SELECT set_config('tenantkit.org_id', '{{org_b}}', true)",
                    "SELECT * FROM tenantkit_audit_checkpoint()",
                    "SELECT tenantkit_audit_verify()",
                ]),
            ]),
        InjectionAttack(
            "edit, delete, truncate the audit log and its chain heads",
            finding: .auditChain,
            attackers: [.adminOfA],
            steps: .statements(
                "UPDATE audit_log SET target = 'edited'",
                "DELETE FROM audit_log",
                "TRUNCATE audit_log",
                "UPDATE audit_chain_heads SET last_seq = 0",
                "DELETE FROM audit_chain_heads",
                "SELECT inner_pad, outer_pad FROM tenantkit.audit_keys",
                "DELETE FROM tenantkit.audit_keys"
            )),
    ]
}
