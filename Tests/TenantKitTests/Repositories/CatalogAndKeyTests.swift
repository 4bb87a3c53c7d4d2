import Foundation
import TenantKitPostgres
import TenantKit
import TenantKitTesting
import Testing

@Suite struct CatalogTests {
    /// Public items as the owner would curate them (the application role cannot write them).
    func addPublic(_ w: World, _ slugs: [String]) async throws {
        for slug in slugs {
            try await w.admin.execute("INSERT INTO public_catalog_items (kind, slug, name) VALUES ('model', \(slug), \("Public " + slug))")
        }
    }

    @Test func eachOrgSeesThePublicCatalogPlusItsOwn() async throws {
        try await withWorld { w in
            try await addPublic(w, ["gpt", "llama"])
            let (_, a, orgA) = try await w.founder("a@a.test", org: "A")
            let (_, b, _) = try await w.founder("b@b.test", org: "B")
            _ = try await a.write { try await $0.catalog.create(kind: "model", slug: "same", name: "A's own", metadata: ["k": "v"]) }
            _ = try await b.write { try await $0.catalog.create(kind: "dataset", slug: "same", name: "B's own") }
            let seenByA = try await a.read { try await $0.catalog.page() }
            #expect(seenByA.orgID == orgA)
            #expect(seenByA.value.items.map(\.name) == ["A's own", "Public gpt", "Public llama"])
            #expect(seenByA.value.items.first?.metadata == ["k": "v"])
            let seenByB = try await b.read { try await $0.catalog.page(kind: "dataset") }.value.items.map(\.name)
            #expect(seenByB == ["B's own"])
            #expect(await tenantError { try await a.write { try await $0.catalog.create(kind: "model", slug: "same", name: "Again") } }
                == .alreadyExists("slug same"))
            // Public items are read-only to organizations.
            let gpt = try await a.read { try await $0.catalog.page(search: "gpt") }.value.items[0]
            #expect(gpt.isPublic)
            #expect(await tenantError { try await a.write { try await $0.catalog.update(gpt.id, name: "Hijacked") } }
                == .notFound("private catalog item \(gpt.id)"))
            #expect(await tenantError { try await a.write { try await $0.catalog.delete(gpt.id) } }
                == .notFound("private catalog item \(gpt.id)"))
        }
    }

    @Test func searchEscapesWildcardsAndPagesByKeyset() async throws {
        try await withWorld { w in
            let (_, a, _) = try await w.founder("a@a.test", org: "A")
            for i in 0..<7 { _ = try await a.write { try await $0.catalog.create(kind: "model", slug: "m\(i)", name: "Model \(i)") } }
            _ = try await a.write { try await $0.catalog.create(kind: "model", slug: "pct", name: "100% fun") }
            #expect(try await a.read { try await $0.catalog.page(search: "%") }.value.items.map(\.slug) == ["pct"])
            var seen: [String] = []
            var cursor: PageCursor?
            repeat {
                let page = try await a.read { [cursor] in try await $0.catalog.page(search: "model", after: cursor, limit: 3) }.value
                seen += page.items.map(\.slug)
                cursor = page.next
            } while cursor != nil
            #expect(seen == (0..<7).map { "m\($0)" })
            let updated = try await a.write { try await $0.catalog.update(try await $0.catalog.page(search: "Model 0").items[0].id, name: "Renamed") }.value
            #expect(updated.name == "Renamed" && updated.updatedAt >= updated.createdAt)
            #expect(await tenantError { try await a.write { try await $0.catalog.create(kind: "Bad Kind", slug: "x", name: "X") } }
                == .invalidInput("kind must be lowercase letters, digits, '_', '.', '-', starting with a letter"))
        }
    }
}

@Suite struct APIKeyTests {
    @Test func aKeyAuthenticatesIntoASessionPinnedToItsOrg() async throws {
        try await withWorld { w in
            let (_, admin, acme) = try await w.founder("a@a.test", org: "Acme")
            let (_, _, other) = try await w.founder("o@o.test", org: "Other")
            let issued = try await admin.write { try await $0.apiKeys.create(name: "deploy bot") }.value
            #expect(issued.secret.hasPrefix(issued.key.prefix + "_"))
            let listed = try await admin.read { try await $0.apiKeys.list() }.value
            #expect(listed.map(\.prefix) == [issued.key.prefix])
            #expect(listed[0].lastUsedAt == nil)
            let stored = try await w.admin.fetchOne("SELECT key_hash FROM api_keys WHERE id = \(issued.key.id)", as: Data.self)
            #expect(stored != Data(issued.secret.utf8))

            let bot = try await w.store.session(apiKey: issued.secret)
            #expect(bot.isPinned)
            #expect(await bot.activeOrgID == acme)
            #expect(await tenantError { try await bot.switch(to: other) } == .pinnedToAPIKeyOrganization)
            _ = try await bot.write { try await $0.catalog.create(kind: "model", slug: "bot-made", name: "Bot made") }
            let entry = try await admin.read { try await $0.audit.page(AuditFilter(action: "catalog.item_created")).items }.value[0]
            #expect(entry.actorAPIKeyID == issued.key.id && entry.actorUserID == nil)
            #expect(try await admin.read { try await $0.apiKeys.list() }.value[0].lastUsedAt != nil)
        }
    }

    @Test func revokedUnknownTruncatedAndPaddedKeysFailAlike() async throws {
        try await withWorld { w in
            let (_, admin, _) = try await w.founder("a@a.test", org: "Acme")
            let issued = try await admin.write { try await $0.apiKeys.create(name: "k") }.value
            for bad in [String(issued.secret.dropLast()), issued.secret + "=", " " + issued.secret, "tk_00000000_nope", "", "garbage"] {
                #expect(await tenantError { try await w.store.session(apiKey: bad) } == .invalidAPIKey)
            }
            let earlier = try await w.store.session(apiKey: issued.secret)
            try await admin.write { try await $0.apiKeys.revoke(issued.key.id) }
            #expect(await tenantError { try await w.store.session(apiKey: issued.secret) } == .invalidAPIKey)
            // A session made before the revocation stops working too, for reads and writes.
            #expect(await tenantError { try await earlier.read { try await $0.catalog.page() } } == .invalidAPIKey)
            #expect(await tenantError { try await earlier.write { try await $0.credits.debit(1, reason: "x", idempotencyKey: "k") } } == .invalidAPIKey)
        }
    }
}
