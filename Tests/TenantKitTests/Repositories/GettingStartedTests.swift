import Foundation
import TenantKit
import TenantKitTesting
import Testing

/// The getting-started code of the README and of `TenantKit.docc/GettingStarted.md`, run as
/// written against a migrated database, with the names it leaves to the reader defined here.
@Suite struct GettingStartedTests {
    @Test func theGettingStartedCodeRuns() async throws {
        try await withWorld { w in
            let store = w.store
            // Left to the reader: the platform's public catalog, ECU bought for Acme, a request id, a second org.
            let itemID = try await w.admin.fetchOne(
                "INSERT INTO public_catalog_items (kind, slug, name) VALUES ('model', 'gpt-4o', 'GPT-4o') RETURNING id", as: UUID.self)
            let requestID = "request-1"

            let ada = try await store.createUser(email: "ada@acme.test", emailVerified: true)
            let session = try await store.session(for: ada.id)
            let acme = try await session.createOrganization(named: "Acme")  // Ada is admin; Acme becomes active
            try await w.asPlatform(session) { org in _ = try await org.credits.grant(10, reason: "purchase", idempotencyKey: "p1") }
            _ = try await session.write { org in try await org.catalog.create(kind: "model", slug: "acme-m", name: "Acme model") }

            let page = try await session.read { org in try await org.catalog.page(kind: "model") }
            #expect(page.orgID == acme)
            #expect(page.value.items.map(\.name) == ["Acme model", "GPT-4o"])  // public catalog + Acme's private items
            let run = try await session.write { org in
                try await org.runs.start(itemID: itemID, cost: 5, idempotencyKey: requestID)  // debit + run + audit, one transaction
            }
            #expect(run.orgID == acme && run.value.cost == 5 && run.value.status == .running)
            #expect(try await session.read { try await $0.credits.balance() }.value == 5)

            let otherOrg = try await store.createOrganization(named: "Globex", by: ada.id)
            try await session.switch(to: otherOrg)
            #expect(await session.activeOrgID == otherOrg)
            #expect(try await session.read { try await $0.catalog.page(kind: "model") }.value.items.map(\.name) == ["GPT-4o"])
        }
    }
}
