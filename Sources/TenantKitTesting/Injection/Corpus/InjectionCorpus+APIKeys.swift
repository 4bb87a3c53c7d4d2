extension InjectionCorpus {
    /// #4: key hashes and prefixes are unique only per org, and the candidate lookup hands any caller
    /// other orgs' hashes; a planted copy or a flood of prefixes in the attacker's org hijacks or
    /// locks out another org's key.
    static let apiKeys: [InjectionAttack] = [
        InjectionAttack(
            "tenantkit_api_key_candidates(<B's prefix>) returns B's key hash",
            finding: .apiKeyHijack,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: .statements("SELECT * FROM tenantkit_api_key_candidates('{{b_key_prefix}}')")),
        InjectionAttack(
            "tenantkit_lookup_api_key(<B's hash from the candidates>) names B's org and key",
            finding: .apiKeyHijack,
            attackers: [.adminOfA, .apiKeyOfA],
            steps: .statements("""
                SELECT * FROM tenantkit_lookup_api_key((SELECT key_hash FROM tenantkit_api_key_candidates('{{b_key_prefix}}') LIMIT 1))
                """)),
        InjectionAttack(
            "plant a copy of B's key (prefix and hash) in A, so B's key may authenticate into A",
            finding: .apiKeyHijack,
            steps: .statements("""
                INSERT INTO api_keys (name, prefix, key_hash)
                SELECT 'ci (copied)', '{{b_key_prefix}}', key_hash FROM tenantkit_api_key_candidates('{{b_key_prefix}}')
                """)),
        InjectionAttack(
            "flood B's key prefix with eight rows in A, so B's key stops authenticating",
            finding: .apiKeyHijack,
            steps: .statements("""
                INSERT INTO api_keys (name, prefix, key_hash)
                SELECT 'junk ' || g, '{{b_key_prefix}}', sha256(convert_to('junk key ' || g, 'UTF8')) FROM generate_series(1, 8) g
                """)),
    ]
}
