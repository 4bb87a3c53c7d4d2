import Foundation
import Hummingbird
import HummingbirdTesting
import StratixAPI
import TenantKit
import TenantKitTesting
import Testing

/// Two instances of the service on one database, as behind a load balancer: a switch made through
/// one cancels a read in flight on the other and re-issues it in the new organization.
@Suite struct TwoInstanceTests {
    @Test func aSwitchOnOneInstanceCancelsAndReissuesTheOthersSlowCatalogRead() async throws {
        try await withStratixWorld { world in
            // Instance two's catalog read is slow in the organization marked slow, quick elsewhere.
            let slowOrg = Shared<UUID?>(nil)
            let (entered, enteredContinuation) = AsyncStream.makeStream(of: UUID.self)
            var twoConfiguration = world.configuration()
            twoConfiguration.catalogReadHook = { org in
                enteredContinuation.yield(org.id)
                if org.id == slowOrg.get() { _ = try await org.scope.query("SELECT pg_sleep(20)") }
            }
            let twoStore = world.anotherStore()
            let one = Application(router: StratixService.router(store: world.store, configuration: world.configuration()))
            let two = Application(router: StratixService.router(store: twoStore, configuration: twoConfiguration))
            let follower = Task { try await twoStore.followSessionChanges(listening: world.db.configuration.with(user: "tenantkit_app")) }
            defer { follower.cancel() }

            try await one.test(.router) { one in
                try await two.test(.router) { two in
                    let (ada, _) = try await one.signIn("ada@acme.test")
                    let acme = try await one.send(.post, "/orgs", .cookie(ada), json: StratixNewOrganization(name: "Acme")).decoded(StratixOrganizationEntry.self)
                    try await one.send(.post, "/catalog", .cookie(ada), json: StratixNewCatalogItem(slug: "acme-secret", name: "Acme secret"))
                    let globex = try await one.send(.post, "/orgs", .cookie(ada), json: StratixNewOrganization(name: "Globex")).decoded(StratixOrganizationEntry.self)
                    try await one.send(.post, "/catalog", .cookie(ada), json: StratixNewCatalogItem(slug: "globex-secret", name: "Globex secret"))
                    try await one.send(.post, "/session/switch", .cookie(ada), json: StratixSwitchRequest(orgID: acme.orgID))
                    slowOrg.update { $0 = acme.orgID }
                    try await Task.sleep(for: .milliseconds(500))  // instance two's listener connects

                    // The session, restored on instance two, is in Acme there too.
                    #expect(try await two.send(.get, "/orgs", .cookie(ada)).decoded(StratixSwitcher.self).activeOrgID == acme.orgID)

                    let clock = ContinuousClock(), started = clock.now
                    async let slowRead = two.send(.get, "/catalog", .cookie(ada))
                    var hookCalls = entered.makeAsyncIterator()
                    #expect(await hookCalls.next() == acme.orgID)
                    try await Task.sleep(for: .milliseconds(300))  // pg_sleep is running on the server

                    // The switch goes through instance one.
                    let switched = try await one.send(.post, "/session/switch", .cookie(ada), json: StratixSwitchRequest(orgID: globex.orgID))
                    #expect(switched.status == .ok)

                    let response = try await slowRead
                    #expect(response.status == .ok)
                    let page = try response.decoded(StratixPage<CatalogItem>.self)
                    #expect(page.orgID == globex.orgID, "re-issued in the new organization")
                    #expect(Set(page.items.map(\.name)) == Set(publicItemNames + ["Globex secret"]))
                    #expect(clock.now - started < .seconds(10), "cancelled on the server, not waited for")
                    #expect(await hookCalls.next() == globex.orgID)

                    // Instance two serves the switched session from then on.
                    #expect(try await two.send(.get, "/orgs", .cookie(ada)).decoded(StratixSwitcher.self).activeOrgID == globex.orgID)
                }
            }
            await twoStore.pool.close()
        }
    }
}
