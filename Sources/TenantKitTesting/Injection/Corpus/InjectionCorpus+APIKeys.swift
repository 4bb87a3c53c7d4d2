extension InjectionCorpus {
    /// #4: key hashes and prefixes are unique only per org, and the candidate lookup hands any caller
    /// other orgs' hashes; a planted copy or a flood of prefixes in the attacker's org hijacks or
    /// locks out another org's key.
    ///
    /// Since 0014 the candidate lookup (`tenantkit_api_key_candidates`, `tenantkit_lookup_api_key`)
    /// is gone: a key of the first format is found by `tenantkit_authenticate_api_key(prefix, hash)`,
    /// which answers only for the right hash, and hashes and prefixes are unique across orgs.
    static let apiKeys: [InjectionAttack] = [
        InjectionAttack(
            "find B's key hash: api_keys by B's prefix, and tenantkit_authenticate_api_key with B's prefix and a guessed hash",
            finding: .apiKeyHijack,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: [
                .statement("SELECT org_id, id, prefix, key_hash FROM api_keys WHERE prefix = '{{b_key_prefix}}'"),
                .oracle(statements: [
                    "SELECT * FROM tenantkit_authenticate_api_key('{{probe}}', sha256(convert_to('{{probe}}_guessed-secret', 'UTF8')))",
                ], secret: "{{b_key_prefix}}", decoy: "tk_00000000"),
            ]),
        InjectionAttack(
            "plant a copy of B's key in A (with B's hash, as if it had leaked), so B's key may authenticate into A",
            finding: .apiKeyHijack,
            steps: .statements(
                """
                INSERT INTO api_keys (name, prefix, key_hash)
                SELECT 'ci (copied)', prefix, key_hash FROM api_keys WHERE prefix = '{{b_key_prefix}}'
                """,
                "INSERT INTO api_keys (name, prefix, key_hash) VALUES ('ci (copied)', 'tk_c0ffee00', decode('{{b_key_hash}}', 'hex'))"
            )),
        InjectionAttack(
            "flood B's key prefix with eight rows in A, so B's key stops authenticating",
            finding: .apiKeyHijack,
            steps: .statements("""
                INSERT INTO api_keys (name, prefix, key_hash)
                SELECT 'junk ' || g, '{{b_key_prefix}}', sha256(convert_to('junk key ' || g, 'UTF8')) FROM generate_series(1, 8) g
                """)),
    ]
}
