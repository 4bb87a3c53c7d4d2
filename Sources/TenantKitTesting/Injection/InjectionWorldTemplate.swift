import Foundation
import TenantKitMigrations
import TenantKitPostgres
import TenantKit

extension TestDatabaseTemplate {
    /// Every migration of the package's `Schema/`, then the ``InjectionWorld``: the leak harness's
    /// two orgs with their overlapping rows, plus what only org B holds.
    public static let injectionWorld = injectionWorld(verifier: .native)

    /// ``injectionWorld`` with the portable (plpgsql) claim verifier.
    public static let injectionWorldPortable = injectionWorld(verifier: .portable)

    private static func injectionWorld(verifier: ContextVerifier) -> TestDatabaseTemplate {
        let directory = schemaDirectory
        return TestDatabaseTemplate(name: "injection" + verifier.templateSuffix, fingerprint: schemaFingerprint(directory) + "-world-2") { configuration in
            try await migrate(configuration, directory: directory, verifier: verifier)
            try await PostgresConnection.withConnection(configuration) { admin in
                // The key scopes sign with (as in `.migrated`): without it no claim verifies and
                // every attack would look contained for the wrong reason.
                try await TenantContextKey.forTesting.install(on: admin)
                try await InjectionWorld.seed(admin)
            }
        }
    }
}

extension InjectionWorld {
    /// Seeds the world as a superuser (bypassing row-level security), the way the leak harness seeds,
    /// into a migrated database with a context key installed (for a shared world, see
    /// ``InjectionSharedWorld``).
    public static func seed(_ admin: PostgresConnection) async throws {
        let f = Fixture.self
        let a = try await LeakHarness.tenantKitOrg(admin, "A")
        let b = try await LeakHarness.tenantKitOrg(admin, "B")
        for seeder in LeakHarness.tenantKitSeeders {
            for org in [a, b] { try await seeder.seed(admin, org) }
        }

        // The orgs and their people.
        try await admin.execute("UPDATE organizations SET name = \(f.nameOfA) WHERE id = \(a.id)")
        try await admin.execute("UPDATE organizations SET name = \(f.nameOfB), settings = \(JSONB(f.settingsOfB)) WHERE id = \(b.id)")
        try await admin.execute("UPDATE users SET email = \(f.adminOfAEmail), display_name = \("Mallory, admin of A") WHERE id = \(a.userID)")
        try await admin.execute("UPDATE users SET email = \(f.adminOfBEmail), display_name = \("Hank Scorpio, admin of B") WHERE id = \(b.userID)")
        let viewer = try await admin.fetchOne("""
            INSERT INTO users (email, email_verified, display_name) VALUES (\(f.viewerOfAEmail), true, \("Mallory, viewer of A")) RETURNING id
            """, as: UUID.self)
        let member = try await admin.fetchOne("""
            INSERT INTO users (email, email_verified, display_name) VALUES (\(f.memberOfBEmail), true, \("Frank Grimes, member of B")) RETURNING id
            """, as: UUID.self)
        let removed = try await admin.fetchOne("""
            INSERT INTO users (email, email_verified, display_name) VALUES (\(f.removedFromBEmail), true, \("Removed contractor")) RETURNING id
            """, as: UUID.self)
        try await admin.execute("INSERT INTO memberships (org_id, user_id, role) VALUES (\(a.id), \(viewer), \("viewer"))")
        try await admin.execute("INSERT INTO memberships (org_id, user_id, role) VALUES (\(b.id), \(member), \("member"))")
        // The contractor was a member of B until B's admin removed them.
        try await admin.execute("INSERT INTO memberships (org_id, user_id, role) VALUES (\(b.id), \(removed), \("member"))")
        try await admin.execute("DELETE FROM memberships WHERE org_id = \(b.id) AND user_id = \(removed)")

        // Catalog, keys, credits, a run.
        let itemOfB = try await admin.fetchOne("""
            INSERT INTO catalog_items (org_id, kind, slug, name, metadata)
            VALUES (\(b.id), \("model"), \(f.privateSlugOfB), \(f.privateNameOfB), \(JSONB(["formula": "vistaline-secret-formula"])))
            RETURNING id
            """, as: UUID.self)
        try await admin.execute("""
            INSERT INTO catalog_items (org_id, kind, slug, name) VALUES (\(a.id), \("model"), \(f.privateSlugOfA), \("Red stapler (org A)"))
            """)
        for (org, secret, creator, revoked) in [(a.id, f.keyOfASecret, a.userID, false), (b.id, f.keyOfBSecret, b.userID, false),
                                                (b.id, f.revokedKeyOfBSecret, b.userID, true)] {
            try await admin.execute("""
                INSERT INTO api_keys (org_id, name, prefix, key_hash, created_by, revoked_at)
                VALUES (\(org), \(revoked ? "old ci" : "ci"), \(f.prefix(of: secret)), \(Data(SHA256.digest(Array(secret.utf8)))),
                        \(creator), \(revoked ? Date() : nil))
                """)
        }
        try await admin.execute("""
            INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key) VALUES (\(a.id), \(f.purchaseOfA), \("purchase"), \("initech-invoice-1"))
            """)
        try await admin.execute("""
            INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key) VALUES (\(b.id), \(f.purchaseOfB), \("purchase"), \(f.guessableIdempotencyKeyOfB))
            """)
        let keyOfB = try await admin.fetchOne("SELECT id FROM api_keys WHERE prefix = \(f.prefix(of: f.keyOfBSecret))", as: UUID.self)
        // A run with a cost commits only together with its debit (runs_debit_required): one statement.
        try await admin.execute("""
            WITH run AS (
                INSERT INTO runs (org_id, catalog_item_id, user_id, api_key_id, cost, status)
                VALUES (\(b.id), \(itemOfB), \(b.userID), \(keyOfB), \(f.runCostOfB), \("succeeded")) RETURNING id)
            INSERT INTO ecu_ledger (org_id, amount, reason, idempotency_key, run_id)
            SELECT \(b.id), \(-f.runCostOfB), \("doomsday simulation"), \("vistaline-run-7f3a"), run.id FROM run
            """)

        // An invitation, B's verified and claimed domain, audit entries.
        try await admin.execute("""
            INSERT INTO invitations (org_id, email, role, token_hash, invited_by)
            VALUES (\(b.id), \(f.invitedEmailOfB), \("admin"), \(Data(SHA256.digest(Array(f.invitationTokenOfB.utf8)))), \(b.userID))
            """)
        try await admin.execute("""
            INSERT INTO org_email_domains (org_id, domain, enabled, default_role, verified_at)
            VALUES (\(b.id), \(f.domainOfB), true, \("member"), now())
            """)
        try await admin.execute("INSERT INTO email_domain_claims (domain, org_id) VALUES (\(f.domainOfB), \(b.id))")
        try await admin.execute("""
            INSERT INTO audit_log (org_id, actor_user_id, action, target, details)
            VALUES (\(b.id), \(b.userID), \("vistaline.merger_planned"), \("vistaline-merger-target"), \(JSONB(["memo": "vistaline-board-memo"])))
            """)
        try await admin.execute("""
            INSERT INTO audit_log (org_id, actor_user_id, action, target) VALUES (\(a.id), \(a.userID), \("initech.tps_report"), \("tps-cover-sheet"))
            """)
        // Statistics, as a database in use has them (pg_stats must not show them to the app).
        try await admin.executeScript(unsafeSQL: "ANALYZE")
    }
}
