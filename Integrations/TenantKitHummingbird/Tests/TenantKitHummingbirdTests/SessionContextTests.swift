import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import TenantKit
import TenantKitHummingbird
import TenantKitTesting
import Testing

/// The live `OrgSession` in the request context: reads through it follow a switch made while they
/// run, writes are refused across one, and an API key has none.
@Suite struct SessionContextTests {
    @Test func aSwitchDuringARequestReissuesItsReadInTheNewOrganization() async throws {
        try await withWorld { w in
            let user = try await w.store.createUser(email: "ada@acme.test", emailVerified: true)
            let opened = try await w.store.openSession(for: user.id)
            let acme = try await opened.session.createOrganization(named: "Acme")
            _ = try await opened.session.write { try await $0.catalog.create(kind: "model", slug: "acme-m", name: "Acme model") }
            let globex = try await opened.session.createOrganization(named: "Globex")
            _ = try await opened.session.write { try await $0.catalog.create(kind: "model", slug: "globex-m", name: "Globex model") }
            try await opened.session.switch(to: acme)

            let requestSession = LiveSession()
            let router = Router(context: TenantRequestContext.self)
            router.add(middleware: TenantErrorMiddleware())
            router.add(middleware: TenantAuthMiddleware(store: w.store, sessions: TenantStoreSessions(store: w.store)))
            router.get("/catalog") { _, context -> ScopedNames in
                requestSession.set(try context.requireOrgSession())
                let page = try await context.read { org in
                    // In Acme the read waits until the switch cancels it; in Globex it answers at once.
                    if org.id == acme { try await Task.sleep(for: .seconds(30)) }
                    return try await org.catalog.page().items.map(\.name)
                }
                return ScopedNames(orgID: page.orgID, items: page.value)
            }
            router.post("/catalog") { _, context -> ScopedNames in
                requestSession.set(try context.requireOrgSession())
                let written = try await context.write { org in
                    try await Task.sleep(for: .seconds(30))
                    return try await org.catalog.create(kind: "model", slug: "late", name: "Late").name
                }
                return ScopedNames(orgID: written.orgID, items: [written.value])
            }

            try await Application(router: router).test(.router) { client in
                async let answer = client.execute(uri: "/catalog", method: .get, headers: cookie(opened.token)) { response in
                    (response.status, response.text)
                }
                let session = try await requestSession.waitForIt()
                try await Task.sleep(for: .milliseconds(200))  // the read is waiting in Acme
                try await session.switch(to: globex)
                let (status, text) = try await answer
                #expect(status == .ok)
                #expect(try ScopedNames(json: text) == ScopedNames(orgID: globex, items: ["Globex model"]))

                // A write caught by a switch is rolled back and refused (409), not replayed.
                try await session.switch(to: acme)
                requestSession.reset()
                async let refused = client.execute(uri: "/catalog", method: .post, headers: cookie(opened.token)) { response in
                    (response.status, response.text)
                }
                let writing = try await requestSession.waitForIt()
                try await Task.sleep(for: .milliseconds(200))
                try await writing.switch(to: globex)
                let (writeStatus, writeText) = try await refused
                #expect(writeStatus == .conflict)
                #expect(writeText.contains(#""code":"organization_switched""#))
            }
            // Nothing of the refused write reached Acme, where it started.
            try await opened.session.switch(to: acme)
            let late = try await opened.session.read { org in try await org.catalog.page(search: "Late").items.count }
            #expect(late.orgID == acme && late.value == 0)
        }
    }

    @Test func anAPIKeyHasNoSessionAndReadsInItsOrganization() async throws {
        try await withWorld { w in
            let ada = try await w.founder("ada@acme.test", org: "Acme")
            _ = try await ada.session.write { try await $0.catalog.create(kind: "model", slug: "acme-m", name: "Acme model") }
            let issued = try await ada.session.write { try await $0.apiKeys.create(name: "sdk") }.value
            let router = Router(context: TenantRequestContext.self)
            router.add(middleware: TenantErrorMiddleware())
            router.add(middleware: TenantAuthMiddleware(store: w.store, sessions: w.sessions))
            router.get("/catalog") { _, context -> ScopedNames in
                let page = try await context.read { try await $0.catalog.page().items.map(\.name) }
                return ScopedNames(orgID: page.orgID, items: page.value)
            }
            router.get("/session") { _, context -> String in
                _ = try context.requireOrgSession()
                return "session"
            }
            try await Application(router: router).test(.router) { client in
                try await client.execute(uri: "/catalog", method: .get, headers: bearer(issued.secret)) { response in
                    #expect((try? ScopedNames(json: response.text)) == ScopedNames(orgID: ada.orgID, items: ["Acme model"]))
                }
                try await client.execute(uri: "/session", method: .get, headers: bearer(issued.secret)) { response in
                    #expect(response.status == .forbidden)
                    #expect(response.text.contains(#""code":"pinned_to_api_key_organization""#))
                }
                // The in-memory resolver knows ids only: reads go to the resolved organization, no session.
                try await client.execute(uri: "/catalog", method: .get, headers: cookie(ada.cookie)) { response in
                    #expect((try? ScopedNames(json: response.text)) == ScopedNames(orgID: ada.orgID, items: ["Acme model"]))
                }
                try await client.execute(uri: "/session", method: .get, headers: cookie(ada.cookie)) { response in
                    #expect(response.status == .unauthorized)
                }
            }
        }
    }
}

struct ScopedNames: ResponseCodable, Equatable {
    let orgID: UUID
    let items: [String]
}

extension ScopedNames {
    /// Decoded, since the encoder's key order is not fixed.
    init(json: String) throws { self = try JSONDecoder().decode(ScopedNames.self, from: Data(json.utf8)) }
}

/// The `OrgSession` a handler got, handed to the test that switches it.
final class LiveSession: Sendable {
    private let session = Mutex<OrgSession?>(nil)

    func set(_ value: OrgSession) { session.withLock { $0 = value } }
    func reset() { session.withLock { $0 = nil } }

    func waitForIt() async throws -> OrgSession {
        for _ in 0..<500 {
            if let value = session.withLock({ $0 }) { return value }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TenantError.invalidInput("the handler never ran")
    }
}
