import Foundation
import Hummingbird
import HummingbirdTesting
import TenantKitPostgres
import StratixAPI
import Synchronization
import TenantKit
import TenantKitTesting
import Testing

/// A migrated database with a public catalog, an operator pool for welcome credits, and a store
/// as the application role: one Stratix instance's world.
struct StratixWorld {
    let db: TestDatabase
    let store: TenantStore
    let operators: PostgresPool

    /// The service's configuration on this world: welcome credits of `credits` ECU, plain-HTTP cookies.
    func configuration(credits: Int64 = 10) -> StratixConfiguration {
        var configuration = StratixConfiguration()
        configuration.secureCookies = false
        configuration.welcomeCredits = StratixWelcomeCredits(amount: credits, operatorPool: operators, operatorID: UUID())
        return configuration
    }

    /// Another instance on the same database: its own pool and store, as another process would have.
    func anotherStore() -> TenantStore { db.makeStore() }
}

/// The public catalog every test database starts with.
let publicItemNames = ["Public GPT", "Public Llama"]

func withStratixWorld(_ body: (StratixWorld) async throws -> Void) async throws {
    try await TestDatabase.with(template: .migrated) { db in
        try await PostgresConnection.withConnection(db.configuration) { owner in
            for (slug, name) in zip(["public-gpt", "public-llama"], publicItemNames) {
                try await owner.execute("INSERT INTO public_catalog_items (kind, slug, name) VALUES ('model', \(slug), \(name))")
            }
        }
        // The superuser stands in for a platform operator's login (grants need one).
        let world = StratixWorld(db: db, store: db.makeStore(), operators: db.makePool(maxConnections: 1))
        do {
            try await body(world)
        } catch {
            await world.store.pool.close()
            await world.operators.close()
            throw error
        }
        await world.store.pool.close()
        await world.operators.close()
    }
}

/// Who a request is from.
enum Credential {
    case none
    case cookie(String)
    case bearer(String)
}

extension TestClientProtocol {
    /// Sends a request with a JSON body (when given) and the credential; returns the response.
    @discardableResult
    func send(_ method: HTTPRequest.Method, _ uri: String, _ credential: Credential = .none, json: (any Encodable)? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        switch credential {
        case .none: break
        case .cookie(let token): headers[.cookie] = "stratix_session=\(token)"
        case .bearer(let key): headers[.authorization] = "Bearer \(key)"
        }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(data: try StratixJSON.encoder().encode(json))
        }
        return try await execute(uri: uri, method: method, headers: headers, body: body) { $0 }
    }

    /// Signs in; returns the session token from the cookie and the answer.
    func signIn(_ email: String) async throws -> (token: String, body: StratixSignedIn) {
        let response = try await send(.post, "/sign-in", json: StratixSignInRequest(email: email))
        #expect(response.status == .ok)
        let setCookie = try #require(response.headers[.setCookie])
        #expect(setCookie.contains("HttpOnly"))
        let pair = try #require(setCookie.split(separator: ";").first)
        let token = String(try #require(pair.split(separator: "=", maxSplits: 1).last))
        #expect(pair.hasPrefix("stratix_session=") && token.hasPrefix("tks_"))
        return (token, try response.decoded(StratixSignedIn.self))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    func decoded<T: Decodable>(_ type: T.Type) throws -> T {
        try StratixJSON.decoder().decode(T.self, from: Data(text.utf8))
    }

    /// The error code of a TenantKitHummingbird error body.
    var errorCode: String? {
        struct Body: Decodable { let error: Inner }
        struct Inner: Decodable { let code: String }
        return (try? JSONDecoder().decode(Body.self, from: Data(text.utf8)))?.error.code
    }
}

extension ByteBuffer {
    init(data: Data) {
        self.init(bytes: Array(data))
    }
}

/// A value tests and handlers share.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func get() -> Value { value.withLock { $0 } }
    func update(_ change: (inout Value) -> Void) { value.withLock { change(&$0) } }
}
