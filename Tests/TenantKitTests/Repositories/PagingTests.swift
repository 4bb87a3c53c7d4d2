import Foundation
import TenantKitPostgres
import TenantKit
import Testing

/// Every listing pages the same way: `Page<T>` with an opaque cursor only its own listing takes.
@Suite struct PagingTests {
    /// Reads a whole listing `size` rows at a time, checking that only the last page has no cursor.
    func readAll<T: Codable & Sendable>(
        size: Int, _ read: (PageCursor?) async throws -> Page<T>
    ) async throws -> (items: [T], pages: Int) {
        var items: [T] = [], pages = 0, cursor: PageCursor?
        repeat {
            let page = try await read(cursor)
            items += page.items
            pages += 1
            cursor = page.next
            if cursor != nil { #expect(page.items.count == size) }
        } while cursor != nil
        return (items, pages)
    }

    @Test func everyListingPagesWithItsOwnCursor() async throws {
        try await withWorld { w in
            let (ada, s, acme) = try await w.founder("a@a.test", org: "Acme")
            for email in ["c@a.test", "b@a.test", "d@a.test"] {
                let user = try await w.store.createUser(email: email, emailVerified: true)
                try await w.admin.execute("INSERT INTO memberships (org_id, user_id, role) VALUES (\(acme), \(user.id), 'member')")
            }
            let members = try await readAll(size: 3) { cursor in try await s.read { try await $0.members.page(after: cursor, limit: 3) }.value }
            #expect(members.items.map(\.email) == ["a@a.test", "b@a.test", "c@a.test", "d@a.test"])
            #expect(members.pages == 2)

            var keyIDs: [UUID] = []
            for i in 0..<5 { keyIDs.append(try await s.write { try await $0.apiKeys.create(name: "k\(i)") }.value.key.id) }
            let keys = try await readAll(size: 2) { cursor in try await s.read { try await $0.apiKeys.page(after: cursor, limit: 2) }.value }
            #expect(Set(keys.items.map(\.id)) == Set(keyIDs) && keys.items.count == 5)
            #expect(keys.items.map(\.createdAt) == keys.items.map(\.createdAt).sorted(by: >))

            for i in 0..<3 { _ = try await s.write { try await $0.invitations.invite(email: "i\(i)@x.test", role: .member) } }
            let invitations = try await readAll(size: 2) { cursor in try await s.read { try await $0.invitations.page(after: cursor, limit: 2) }.value }
            #expect(Set(invitations.items.map(\.email)) == ["i0@x.test", "i1@x.test", "i2@x.test"])

            _ = try await w.asPlatform(s) { try await $0.credits.grant(100, reason: "welcome", idempotencyKey: "g") }
            let item = try await s.write { try await $0.catalog.create(kind: "model", slug: "m", name: "M") }.value
            for i in 0..<3 { _ = try await s.write { try await $0.runs.start(itemID: item.id, cost: 1, idempotencyKey: "r\(i)") } }
            let runs = try await readAll(size: 2) { cursor in try await s.read { try await $0.runs.page(after: cursor, limit: 2) }.value }
            #expect(runs.items.count == 3 && runs.pages == 2)
            let ledger = try await readAll(size: 2) { cursor in try await s.read { try await $0.credits.history(after: cursor, limit: 2) }.value }
            #expect(ledger.items.map(\.amount) == [-1, -1, -1, 100])
            let audit = try await readAll(size: 4) { cursor in try await s.read { try await $0.audit.page(after: cursor, limit: 4) }.value }
            #expect(audit.items.map(\.seq) == Array((1...Int64(audit.items.count)).reversed()))
            #expect(audit.items.last?.actorUserID == ada.id)

            // A cursor belongs to its listing: another one refuses it, and so does every listing a forged one.
            let membersCursor = try #require(try await s.read { try await $0.members.page(limit: 1) }.value.next)
            #expect(await tenantError { try await s.read { try await $0.catalog.page(after: membersCursor) } }
                == .invalidInput("the page cursor is not one of the catalog listing's"))
            #expect(await tenantError { try await s.read { try await $0.runs.page(after: PageCursor(text: "not a cursor")) } }
                == .invalidInput("the page cursor is not one of the runs listing's"))
            #expect(await tenantError { try await s.read { try await $0.members.page(limit: 0) } }
                == .invalidInput("a page holds 1 to 500 members"))
        }
    }

    @Test func pagesEncodeAsJSONWithTheCursorAsAString() async throws {
        try await withWorld { w in
            let (_, s, acme) = try await w.founder("a@a.test", org: "Acme")
            _ = try await s.write { try await $0.catalog.create(kind: "model", slug: "own", name: "A own") }
            _ = try await s.write { try await $0.catalog.create(kind: "model", slug: "own2", name: "B own") }
            let page = try await s.read { try await $0.catalog.page(limit: 1) }.value
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let json = try #require(String(data: try encoder.encode(page), encoding: .utf8))
            let next = try #require(page.next)
            #expect(json.contains("\"next\":\"\(next.text)\""))
            #expect(json.contains("\"isPublic\":false"))
            #expect(json.contains("\"orgID\":\"\(acme.uuidString)\""))
            let decoded = try JSONDecoder().decode(Page<CatalogItem>.self, from: Data(json.utf8))
            #expect(decoded == page)
            // The decoded cursor continues the listing.
            let second = try await s.read { try await $0.catalog.page(after: decoded.next, limit: 1) }.value
            #expect(second.items.map(\.slug) == ["own2"])
        }
    }
}
