import Foundation
import Hummingbird
import HummingbirdTesting
import TenantKitPostgres
import TenantKit
import TenantKitHummingbird
import TenantKitTesting
import Testing

/// A small service on the integration, as an application would write it.
func makeRouter(store: TenantStore, sessions: TenantInMemorySessions, apiKeyCheck: TenantAuthMiddleware<TenantRequestContext>.APIKeyCheck = .beforeHandler) -> Router<TenantRequestContext> {
    let router = Router(context: TenantRequestContext.self)
    router.add(middleware: TenantRequestIDMiddleware())
    router.add(middleware: TenantErrorMiddleware())
    router.add(middleware: TenantAuthMiddleware(store: store, sessions: sessions, apiKeyCheck: apiKeyCheck))

    router.get("/catalog") { _, context -> ItemNames in
        ItemNames(items: try await context.requireActiveOrg().catalog.page().items.map(\.name))
    }
    router.get("/catalog/:id") { _, context -> ItemName in
        let id = try context.parameters.require("id", as: UUID.self)
        return ItemName(name: try await context.requireActiveOrg().catalog.item(id).name)
    }
    router.post("/catalog") { request, context -> EditedResponse<ItemName> in
        let input = try await request.decode(as: NewItem.self, context: context)
        let item = try await context.requireActiveOrg().catalog.create(kind: "model", slug: input.slug, name: input.name)
        return EditedResponse(status: .created, response: ItemName(name: item.name))
    }
    router.post("/runs") { request, context -> EditedResponse<RunStarted> in
        let input = try await request.decode(as: NewRun.self, context: context)
        let run = try await context.requireActiveOrg().runs.start(itemID: input.itemID, cost: input.cost, idempotencyKey: input.idempotencyKey)
        return EditedResponse(status: .created, response: RunStarted(status: run.status.rawValue))
    }
    router.get("/whoami") { _, context -> String in
        switch try context.requirePrincipal() {
        case .user: "user"
        case .apiKey: "api key"
        }
    }
    router.get("/boom") { _, context -> String in
        // A real PostgresError (division by zero) from the active organization's scope.
        _ = try await context.requireActiveOrg().scope.query("SELECT 1 / 0")
        return "unreachable"
    }
    return router
}

struct ItemNames: ResponseCodable { let items: [String] }
struct ItemName: ResponseCodable { let name: String }
struct NewItem: Codable { let slug: String; let name: String }
struct NewRun: Codable { let itemID: UUID; let cost: Int64; let idempotencyKey: String }
struct RunStarted: ResponseCodable { let status: String }

/// A migrated database, a store on it as the application role, in-memory sessions, and a founder
/// with a session in a fresh organization.
struct World {
    let db: TestDatabase
    let store: TenantStore
    let sessions: TenantInMemorySessions

    /// A user, their organization (they are its admin) and a session cookie for it.
    func founder(_ email: String, org name: String) async throws -> (session: OrgSession, orgID: UUID, cookie: String) {
        let user = try await store.createUser(email: email, emailVerified: true)
        let session = try await store.session(for: user.id)
        let orgID = try await session.createOrganization(named: name)
        return (session, orgID, sessions.create(userID: user.id, activeOrgID: orgID))
    }
}

func withWorld<T>(_ body: (World) async throws -> T) async throws -> T {
    try await TestDatabase.with(template: .migrated) { db in
        let store = db.makeStore()
        do {
            let result = try await body(World(db: db, store: store, sessions: TenantInMemorySessions()))
            await store.pool.close()
            return result
        } catch {
            await store.pool.close()
            throw error
        }
    }
}

func cookie(_ id: String) -> HTTPFields { [.cookie: "tenantkit_session=\(id)"] }
func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }
func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

extension TestResponse {
    var text: String { String(buffer: body) }
}

/// The exact error body a code and message make.
func errorBody(_ code: String, _ message: String) -> String {
    #"{"error":{"code":"\#(code)","message":"\#(message)"}}"#
}
