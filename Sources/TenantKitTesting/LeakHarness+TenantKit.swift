import Foundation
import TenantKitPostgres

extension LeakHarness {
    /// Creates an organization the way TenantKit's operator path does
    /// (`tenantkit.create_organization_for`: the user becomes its admin and the org gets its ECU
    /// account). Both orgs get the same name.
    public static let tenantKitOrg: OrgMaker = { admin, label in
        let email = "leak-\(label.lowercased())-\(UUID().uuidString.lowercased())@harness.test"
        let user = try await admin.fetchOne(
            "INSERT INTO users (email, email_verified) VALUES (\(email), true) RETURNING id", as: UUID.self)
        let org = try await admin.fetchOne("SELECT tenantkit.create_organization_for(\(user), 'Overlapping Org')", as: UUID.self)
        return Org(id: org, userID: user, label: label)
    }

    /// Rows in every TenantKit tenant table, with the same names, slugs, emails, domains and
    /// idempotency keys in both organizations (only globally unique values differ).
    public static let tenantKitSeeders: [Seeder] = [
        Seeder("tenantkit schema") { admin, org in
            let tag = org.label.lowercased()
            // A user who belongs to both organizations.
            try await admin.execute("INSERT INTO users (email) VALUES ('shared-member@harness.test') ON CONFLICT DO NOTHING")
            try await admin.execute("""
                INSERT INTO memberships (org_id, user_id, role)
                SELECT \(org.id), id, 'member' FROM users WHERE lower(email) = 'shared-member@harness.test'
                """)
            try await admin.execute("""
                INSERT INTO invitations (org_id, email, role, token_hash, invited_by)
                VALUES (\(org.id), 'invitee@harness.test', 'viewer', sha256(convert_to(\(org.invitationToken), 'UTF8')), \(org.userID))
                """)
            try await admin.execute("INSERT INTO org_email_domains (org_id, domain) VALUES (\(org.id), 'shared.harness.test')")
            // Claims are globally unique: one per organization and harness run.
            let claimed = "claimed-\(tag)-\(org.id.uuidString.prefix(8).lowercased()).harness.test"
            try await admin.execute("INSERT INTO email_domain_claims (domain, org_id) VALUES (\(claimed), \(org.id))")
            try await admin.execute("""
                INSERT INTO public_catalog_items (kind, slug, name) VALUES ('model', 'harness-public', 'Public')
                ON CONFLICT (slug) DO NOTHING
                """)
            let item = try await admin.fetchOne("""
                INSERT INTO catalog_items (org_id, kind, slug, name, metadata)
                VALUES (\(org.id), 'model', 'same-slug', 'Same name', '{"owner": "same"}') RETURNING id
                """, as: UUID.self)
            let key = try await admin.fetchOne("""
                INSERT INTO api_keys (org_id, name, prefix, key_hash, created_by)
                VALUES (\(org.id), 'ci', \(org.apiKeyPrefix), sha256(convert_to(\(org.apiKey), 'UTF8')), \(org.userID)) RETURNING id
                """, as: UUID.self)
            try await admin.execute("""
                INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key) VALUES (\(org.id), 100, 'grant', 'grant-1')
                """)
            // A run exists only with its debit: both in one statement.
            try await admin.execute("""
                WITH run AS (
                    INSERT INTO runs (org_id, catalog_item_id, user_id, api_key_id, cost, status)
                    VALUES (\(org.id), \(item), \(org.userID), \(key), 5, 'succeeded') RETURNING id)
                INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key, run_id)
                SELECT \(org.id), -5, 'run', 'run-1', run.id FROM run
                """)
            try await admin.execute("""
                INSERT INTO audit_log (org_id, actor_user_id, action, target) VALUES (\(org.id), \(org.userID), 'harness.seed', 'same-target')
                """)
        },
    ]
}

extension LeakHarness.Org {
    /// The plaintext token of the invitation the TenantKit seeders give this org. Tokens, key
    /// hashes and prefixes are unique across orgs, so each org (and each harness run) has its own.
    public var invitationToken: String { "harness-invite-\(label.lowercased())-\(id.uuidString.prefix(8).lowercased())" }
    /// The text of the API key the TenantKit seeders give this org (its hash is stored).
    public var apiKey: String { "harness-key-\(label.lowercased())-\(id.uuidString.prefix(8).lowercased())" }
    /// That key's visible prefix.
    public var apiKeyPrefix: String { "tk_harness_\(label.lowercased())_\(id.uuidString.prefix(8).lowercased())" }
}
