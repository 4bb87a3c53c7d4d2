import Foundation
import TenantKitPostgres
import TenantKit
import Testing

/// Attack 12 at the repository level: every string a repository accepts is data, never SQL, and
/// oversized input is refused before anything is written.
@Suite struct HostileInputTests {
    static let hostile = [
        "x'); DROP TABLE catalog_items; --",
        "' OR org_id IS NOT NULL OR '1'='1",
        "\\\\'; SELECT set_config('tenantkit.org_id', '', false); --",
        "%' OR 1=1 --",
        "$1 $2 $$ dollar $$",
    ]

    @Test func stringsAreStoredAndSearchedAsData() async throws {
        try await withWorld { w in
            let (_, a, acme) = try await w.founder("a@a.test", org: "Acme")
            let (_, b, _) = try await w.founder("b@b.test", org: "Other")
            _ = try await b.write { try await $0.catalog.create(kind: "model", slug: "other", name: "Other's item") }
            for (i, text) in Self.hostile.enumerated() {
                let item = try await a.write { try await $0.catalog.create(kind: "model", slug: "s\(i)", name: text, metadata: [text: text]) }.value
                #expect(item.name == text && item.metadata == [text: text])
                let found = try await a.read { try await $0.catalog.page(search: text) }.value.items
                #expect(found.map(\.id) == [item.id])
                try await a.write { try await $0.organization.rename(to: text) }
                #expect(try await a.read { try await $0.organization.get() }.value.name == text)
                _ = try await a.write { try await $0.apiKeys.create(name: text) }
                _ = try await w.asPlatform(a) { try await $0.credits.grant(1, reason: text, idempotencyKey: text) }
            }
            #expect(try await w.admin.fetchOne("SELECT count(*) FROM catalog_items WHERE org_id <> \(acme)", as: Int.self) == 1)
            #expect(try await a.read { try await $0.audit.verifyChain() }.value == .intact(entries: 1 + 5 * 4))
            for text in Self.hostile {
                #expect(await tenantError { try await a.write { try await $0.invitations.invite(email: text, role: .member) } }
                    == .invalidInput("\"\(text)\" is not an email address"))
                #expect(await tenantError { try await a.write { try await $0.domains.register(text) } }
                    == .invalidInput("\"\(text)\" is not a domain name"))
                #expect(await tenantError { try await a.write { try await $0.catalog.create(kind: "model", slug: text, name: "n") } }
                    == .invalidInput("slug must be lowercase letters, digits, '_', '.', '-', at most 128 characters"))
            }
            #expect(await tenantError { try await w.store.session(apiKey: Self.hostile[0]) } == .invalidAPIKey)
            #expect(await tenantError { try await w.store.acceptInvitation(token: Self.hostile[1], userID: w.store.createUser(email: "t@t.test").id) }
                == .invitationRejected(.unknownToken))
        }
    }

    @Test func oversizedInputIsRefusedBeforeWriting() async throws {
        try await withWorld { w in
            let (_, a, acme) = try await w.founder("a@a.test", org: "Acme")
            let big = String(repeating: "x", count: 70_000)
            #expect(await tenantError { try await a.write { try await $0.catalog.create(kind: "model", slug: "big", name: "Big", metadata: ["blob": big]) } }
                == .invalidInput("metadata is \(70_000 + #"{"blob":""}"#.utf8.count) bytes of JSON; the limit is 65536"))
            #expect(await tenantError { try await a.write { try await $0.catalog.create(kind: "model", slug: "big", name: big) } }
                == .invalidInput("an item name must have 1 to 200 characters"))
            #expect(await tenantError { try await a.write { try await $0.organization.updateSettings(["blob": big]) } }
                == .invalidInput("settings is \(70_000 + #"{"blob":""}"#.utf8.count) bytes of JSON; the limit is 65536"))
            #expect(await tenantError { try await w.asPlatform(a) { try await $0.credits.grant(1, reason: big, idempotencyKey: "k") } }
                == .invalidInput("a reason must have 1 to 200 characters"))
            #expect(try await w.count("catalog_items", org: acme) == 0)
            #expect(try await w.count("ecu_ledger", org: acme) == 0)
            #expect(try await a.read { try await $0.audit.page().items }.value.map(\.action) == ["organization.created"])
        }
    }
}
