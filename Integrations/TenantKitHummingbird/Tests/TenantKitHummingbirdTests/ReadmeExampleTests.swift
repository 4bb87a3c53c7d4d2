import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import TenantKitPostgres
import TenantKit
import TenantKitHummingbird
import TenantKitTesting
import Testing

// The README's example ("Use it in a Hummingbird service"), kept compiling and answering here:
// the same middlewares, handlers and services, the session follower included (keep the two in step).
struct RunsPage: ResponseEncodable { let page: Page<Run> }
struct RunBody: ResponseEncodable { let run: Run }

func readmeRouter(store: TenantStore, sessions: some TenantSessionResolver) -> Router<TenantRequestContext> {
    let router = Router(context: TenantRequestContext.self)
    router.add(middleware: TenantRequestIDMiddleware())
    router.add(middleware: TenantErrorMiddleware())
    router.add(middleware: TenantAuthMiddleware(store: store, sessions: sessions))

    router.get("/runs") { request, context -> RunsPage in
        let after = request.uri.queryParameters["after"].map { PageCursor(text: String($0)) }
        return RunsPage(page: try await context.requireActiveOrg().runs.page(after: after))
    }
    router.get("/runs/:id") { _, context -> RunBody in
        RunBody(run: try await context.requireActiveOrg().runs.run(try context.parameters.require("id", as: UUID.self)))
    }
    return router
}

@Suite struct ReadmeExampleTests {
    @Test func theReadmeServiceAnswers() async throws {
        try await withWorld { w in
            let ada = try await w.founder("ada@acme.test", org: "Acme")
            let bob = try await w.founder("bob@globex.test", org: "Globex")
            let operators = w.db.makePool(maxConnections: 1)  // the platform's login grants ECU
            for org in [ada.orgID, bob.orgID] {
                _ = try await w.store.platformOperator(UUID(), in: org, on: operators).credits.grant(10, reason: "bought", idempotencyKey: "g1")
            }
            await operators.close()
            let item = try await ada.session.write { try await $0.catalog.create(kind: "model", slug: "m", name: "M") }.value
            let mine = try await ada.session.write { try await $0.runs.start(itemID: item.id, cost: 1, idempotencyKey: "r1") }.value
            let bobsItem = try await bob.session.write { try await $0.catalog.create(kind: "model", slug: "g", name: "G") }.value
            let theirs = try await bob.session.write { try await $0.runs.start(itemID: bobsItem.id, cost: 1, idempotencyKey: "r1") }.value
            let poolLogger = Logger(label: "tenantkit.pool", metadataProvider: TenantRequestID.metadataProvider)
            _ = poolLogger  // as the README creates the pool's logger
            // Persistent sessions, as the README has them.
            let user = try #require(try await w.store.user(email: "ada@acme.test"))
            let token = try await w.store.openSession(for: user.id, activeOrgID: ada.orgID).token
            let app = Application(router: readmeRouter(store: w.store, sessions: TenantStoreSessions(store: w.store)),
                                  services: [TenantPoolService(pool: w.store.pool),
                                             TenantSessionFollower(store: w.store, listening: w.db.configuration.with(user: "tenantkit_app"))])
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601  // as Hummingbird encodes dates
            // Live: a real server on loopback, in the application's ServiceGroup with the pool service and the follower.
            try await app.test(.live) { client in
                try await client.execute(uri: "/runs", method: .get, headers: cookie(token)) { response in
                    struct Listed: Decodable { struct Page: Decodable { let items: [Run] }; let page: Page }
                    #expect(response.status == .ok)
                    let listed = try decoder.decode(Listed.self, from: Data(response.text.utf8))
                    #expect(listed.page.items.map(\.id) == [mine.id])
                }
                try await client.execute(uri: "/runs/\(mine.id)", method: .get, headers: cookie(token)) { response in
                    struct Body: Decodable { let run: Run }
                    #expect(response.status == .ok)
                    let body = try decoder.decode(Body.self, from: Data(response.text.utf8))
                    #expect(body.run.id == mine.id)
                }
                // Another org's run: 404, as a missing one; a cursor of another listing: 422.
                try await client.execute(uri: "/runs/\(theirs.id)", method: .get, headers: cookie(token)) { response in
                    #expect(response.status == .notFound)
                }
                let foreign = try #require(try await ada.session.read { try await $0.catalog.page(limit: 1) }.value.next)
                try await client.execute(uri: "/runs?after=\(foreign.text)", method: .get, headers: cookie(token)) { response in
                    #expect(response.status.code == 422)
                }
            }
            // The test stopped the application gracefully: the server first, then the pool.
            #expect(await w.store.pool.openConnections == 0)
            await #expect(throws: PostgresClientError.self) { try await w.store.pool.execute("SELECT 1") }
        }
    }
}
