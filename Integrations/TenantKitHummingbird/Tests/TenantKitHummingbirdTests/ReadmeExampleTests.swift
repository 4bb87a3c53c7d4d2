import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import TenantKitPostgres
import TenantKit
import TenantKitHummingbird
import TenantKitTesting
import Testing

// The README's example, kept compiling and answering here (keep the two in step).
struct ItemDTO: ResponseEncodable { let id: UUID; let name: String; let isPublic: Bool }
struct StartRun: Decodable { let itemID: UUID; let cost: Int64; let idempotencyKey: String }
struct RunDTO: ResponseEncodable { let id: UUID; let status: String }

func readmeRouter(store: TenantStore, sessions: some TenantSessionResolver) -> Router<TenantRequestContext> {
    let router = Router(context: TenantRequestContext.self)
    router.add(middleware: TenantRequestIDMiddleware())
    router.add(middleware: TenantErrorMiddleware())
    router.add(middleware: TenantAuthMiddleware(store: store, sessions: sessions))

    router.get("/catalog") { _, context -> [ItemDTO] in
        let page = try await context.requireActiveOrg().catalog.page(kind: "model")
        return page.items.map { ItemDTO(id: $0.id, name: $0.name, isPublic: $0.isPublic) }
    }
    router.get("/catalog/:id") { _, context -> ItemDTO in
        let item = try await context.requireActiveOrg().catalog.item(try context.parameters.require("id", as: UUID.self))
        return ItemDTO(id: item.id, name: item.name, isPublic: item.isPublic)
    }
    router.post("/runs") { request, context -> RunDTO in
        let input = try await request.decode(as: StartRun.self, context: context)
        let run = try await context.requireActiveOrg().runs.start(
            itemID: input.itemID, cost: input.cost, idempotencyKey: input.idempotencyKey)
        return RunDTO(id: run.id, status: run.status.rawValue)
    }
    return router
}

@Suite struct ReadmeExampleTests {
    @Test func theReadmeServiceAnswers() async throws {
        try await withWorld { w in
            let ada = try await w.founder("ada@acme.test", org: "Acme")
            let item = try await ada.session.write { try await $0.catalog.create(kind: "model", slug: "m", name: "M") }.value
            let poolLogger = Logger(label: "tenantkit.pool", metadataProvider: TenantRequestID.metadataProvider)
            _ = poolLogger  // as the README creates the pool's logger
            // Persistent sessions, as the README has them.
            let user = try #require(try await w.store.user(email: "ada@acme.test"))
            let token = try await w.store.openSession(for: user.id, activeOrgID: ada.orgID).token
            let app = Application(router: readmeRouter(store: w.store, sessions: TenantStoreSessions(store: w.store)),
                                  services: [TenantPoolService(pool: w.store.pool)])
            // Live: a real server on loopback, in the application's ServiceGroup with the pool service.
            try await app.test(.live) { client in
                try await client.execute(uri: "/catalog", method: .get, headers: cookie(token)) { response in
                    struct Item: Decodable, Equatable { let id: UUID; let name: String; let isPublic: Bool }
                    #expect(response.status == .ok)
                    let items = try JSONDecoder().decode([Item].self, from: Data(response.text.utf8))
                    #expect(items == [Item(id: item.id, name: "M", isPublic: false)])
                }
                try await client.execute(uri: "/catalog/\(item.id)", method: .get, headers: cookie(token)) { response in
                    #expect(response.status == .ok)
                }
                let run = #"{"itemID":"\#(item.id)","cost":1,"idempotencyKey":"r1"}"#
                try await client.execute(uri: "/runs", method: .post, headers: cookie(token), body: json(run)) { response in
                    #expect(response.status.code == 402)
                }
            }
            // The test stopped the application gracefully: the server first, then the pool.
            #expect(await w.store.pool.openConnections == 0)
            await #expect(throws: PostgresClientError.self) { try await w.store.pool.execute("SELECT 1") }
        }
    }
}
