import Foundation
import TenantKitPostgres
@testable import TenantKit
import TenantKitTesting
import TenantSQL
import Testing

/// The signed context is verified once per statement, not once per row.
@Suite struct ContextVerificationTests {
    @Test func aCatalogPageVerifiesTheClaimOnce() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            // Count function calls in this database (a superuser's setting), from the next connection on.
            try await PostgresConnection.withConnection(db.configuration) { admin in
                try await admin.executeScript(unsafeSQL: "ALTER DATABASE \(PostgresIdentifier(db.name)) SET track_functions = 'all'")
                try await admin.execute("""
                    INSERT INTO public_catalog_items (kind, slug, name)
                    SELECT 'model', 'public-' || g, 'Public ' || g FROM generate_series(1, 120) g
                    """)
            }
            let store = db.makeStore()
            let ada = try await store.createUser(email: "ada@acme.test", emailVerified: true)
            let acme = try await store.createOrganization(named: "Acme", by: ada.id)
            let scope = store.scope(acme, as: .user(ada.id))
            // Private items too, which sort first: the page reads both halves of the catalog.
            try await PostgresConnection.withConnection(db.configuration) { admin in
                try await admin.execute("""
                    INSERT INTO catalog_items (org_id, kind, slug, name)
                    SELECT \(acme), 'model', 'acme-' || g, 'Acme ' || g FROM generate_series(1, 30) g
                    """)
            }
            let page = try scope.render(CatalogRepository.pageQuery(kind: "model", search: nil, after: nil, limit: 50))

            // Calls not yet flushed to the shared statistics (earlier work on this backend included),
            // before and after the page: the difference is the page's.
            let counted: PostgresQuery = """
                SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_xact_user_functions WHERE funcname = 'verified_principal'
                """
            let (rows, calls, plan) = try await scope.transaction { tx in
                let before = try await tx.fetchOne(counted, as: Int64.self)
                let rows = try await tx.query(page).count
                let calls = try await tx.fetchOne(counted, as: Int64.self) - before
                let plan = try await tx.query(PostgresQuery(unsafeSQL: "EXPLAIN (VERBOSE, COSTS OFF) " + page.sql, binds: page.binds))
                    .map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
                return (rows, calls, plan)
            }
            #expect(rows == 50)
            #expect(try await scope.fetchAll(CatalogRepository.pageQuery(kind: "model", search: nil, after: nil, limit: 50), as: CatalogItem.self)
                .map(\.name) == (1...30).map { "Acme \($0)" }.sorted() + (1...120).map { "Public \($0)" }.sorted().prefix(20))
            #expect(calls == 1, "the claim was verified \(calls) times for a page of \(rows) rows")
            // The plan shows why: the org's own half is a scan whose policy computes the org in an
            // InitPlan, once; the public half reads the public catalog, which has no policy.
            #expect(plan.components(separatedBy: "verified_principal").count - 1 == 1, "\(plan)")
            #expect(plan.components(separatedBy: "InitPlan").count - 1 == 1, "\(plan)")
            #expect(plan.contains("public.public_catalog_items"), "\(plan)")
            // Two branches appended (merged from two ordered index scans on a large catalog; these
            // 150 rows are cheaper to sort).
            #expect(plan.contains("Append"), "\(plan)")
            await store.pool.close()
        }
    }
}

@Suite struct APIKeyRoundTripTests {
    @Test func aKeyRequestAuthenticatesInTheRoundTripOfItsFirstRead() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            let store = TenantStore(pool: db.makePool(user: "tenantkit_app", maxConnections: 1), key: .forTesting)
            let ada = try await store.createUser(email: "ada@acme.test", emailVerified: true)
            let acme = try await store.createOrganization(named: "Acme", by: ada.id)
            let issued = try await ActiveOrg(scope: store.scope(acme, as: .user(ada.id))).apiKeys.create(name: "ci")

            let before = try await store.pool.withConnection { $0.roundTrips }
            let name = try await store.withAPIKey(issued.secret) { org in try await org.organization.get().name }
            let after = try await store.pool.withConnection { $0.roundTrips }
            #expect(name == "Acme")
            #expect(after - before == 1, "authentication and the read took \(after - before) round trips")

            // A wrong secret with the right ids fails in that same round trip, as an invalid key.
            let forged = String(issued.secret.dropLast(3)) + "abc"
            #expect(await #expect(throws: TenantError.self) { try await store.withAPIKey(forged) { try await $0.organization.get() } }
                == .invalidAPIKey)
            await store.pool.close()
        }
    }

    /// Through `SET LOCAL` (the Citus transport) a key's requests only check it; its use is
    /// recorded in a transaction of its own (on Citus the owner's write to `api_keys` may not share
    /// one with the request's reads), once a minute per key.
    @Test func throughSetLocalAKeysUseIsRecordedApartOnceAMinute() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            let store = TenantStore(pool: db.makePool(user: "tenantkit_app", maxConnections: 1), key: .forTesting, transport: .setLocal)
            let ada = try await store.createUser(email: "ada@acme.test", emailVerified: true)
            let acme = try await store.createOrganization(named: "Acme", by: ada.id)
            let issued = try await ActiveOrg(scope: store.scope(acme, as: .user(ada.id))).apiKeys.create(name: "ci")
            let admin = try await db.connect()
            func lastUsed() async throws -> Date? {
                try await admin.fetchOne("SELECT last_used_at FROM api_keys WHERE id = \(issued.key.id)", as: Date?.self)
            }
            let before = try await store.pool.withConnection { $0.roundTrips }
            _ = try await store.withAPIKey(issued.secret) { try await $0.organization.get() }
            let after = try await store.pool.withConnection { $0.roundTrips }
            #expect(after - before == 2, "the use recorded, then the read: \(after - before) round trips")
            #expect(try await lastUsed() != nil)
            try await admin.execute("UPDATE api_keys SET last_used_at = NULL WHERE id = \(issued.key.id)")
            // Within the minute: one round trip, whose statements check the key and write nothing.
            _ = try await store.withAPIKey(issued.secret) { try await $0.organization.get() }
            #expect(try await store.pool.withConnection { $0.roundTrips } - after == 1)
            #expect(try await lastUsed() == nil)
            _ = try await store.authenticate(apiKey: issued.secret)
            #expect(try await lastUsed() != nil, "authenticating records it (the database keeps it to once a minute)")

            let uses = APIKeyUses(), start = ContinuousClock.now
            #expect(uses.isDue(issued.key.id, now: start) && !uses.isDue(issued.key.id, now: start + .seconds(59)))
            #expect(uses.isDue(issued.key.id, now: start + .seconds(60)))
            await admin.close()
            await store.pool.close()
        }
    }
}
