import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Postgres
import TenantKit
import TenantKitHummingbird
import TenantKitTesting
import Testing

// The README's example, kept compiling and answering here (keep the two in step).
struct ItemDTO: ResponseEncodable { let id: UUID; let name: String; let isPublic: Bool }
struct StartRun: Decodable { let itemID: UUID; let cost: Int64; let idempotencyKey: String }
struct RunDTO: ResponseEncodable { let id: UUID; let status: String }

func readmeRouter(store: TenantStore, sessions: TenantInMemorySessions) -> Router<TenantRequestContext> {
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
            let app = Application(router: readmeRouter(store: w.store, sessions: w.sessions),
                                  services: [TenantPoolService(pool: w.store.pool)])
            try await app.test(.router) { client in
                try await client.execute(uri: "/catalog", method: .get, headers: cookie(ada.cookie)) { response in
                    struct Item: Decodable, Equatable { let id: UUID; let name: String; let isPublic: Bool }
                    #expect(response.status == .ok)
                    let items = try JSONDecoder().decode([Item].self, from: Data(response.text.utf8))
                    #expect(items == [Item(id: item.id, name: "M", isPublic: false)])
                }
                try await client.execute(uri: "/catalog/\(item.id)", method: .get, headers: cookie(ada.cookie)) { response in
                    #expect(response.status == .ok)
                }
                let run = #"{"itemID":"\#(item.id)","cost":1,"idempotencyKey":"r1"}"#
                try await client.execute(uri: "/runs", method: .post, headers: cookie(ada.cookie), body: json(run)) { response in
                    #expect(response.status.code == 402)
                }
            }
        }
    }
}
