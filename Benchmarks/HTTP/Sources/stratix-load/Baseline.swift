// The baseline: the measured routes of the Stratix example written the way a Swift developer
// does today, on Hummingbird + postgres-nio, against the same database with the same guarantees.
// It sends TenantKit's statements (so the database does the same work: the same session lookup,
// the same signed claim verified by the same RLS policies, the same queries), one round trip
// each, in postgres-nio's transactions, and encodes with the example's JSON encoder.
//
// This file imports PostgresNIO and not TenantKit: their type names overlap.
import Crypto
import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle
import StratixAPI

/// The principal a request authenticated as, and the organization it acts in.
enum BaselinePrincipal: Sendable {
    case user(id: UUID, orgID: UUID)
    case apiKey(id: UUID, orgID: UUID, presentedHash: [UInt8])

    var orgID: UUID {
        switch self {
        case .user(_, let orgID), .apiKey(_, let orgID, _): orgID
        }
    }
}

struct BaselineContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var principal: BaselinePrincipal?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
    }

    var requestDecoder: JSONDecoder { StratixJSON.decoder() }
    var responseEncoder: JSONEncoder { StratixJSON.encoder() }
}

/// The JSON the example answers with, field for field (`CatalogItem`, `Run` and the example's envelopes).
struct BaselineCatalogItem: Encodable {
    let id: UUID, orgID: UUID?, kind: String, slug: String, name: String, metadata: [String: String], createdAt: Date, updatedAt: Date

    enum CodingKeys: String, CodingKey { case id, orgID, kind, slug, name, metadata, createdAt, updatedAt, isPublic }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(orgID, forKey: .orgID)  // null for a public item, as TenantKit writes it
        try c.encode(kind, forKey: .kind)
        try c.encode(slug, forKey: .slug)
        try c.encode(name, forKey: .name)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(orgID == nil, forKey: .isPublic)
    }
}

struct BaselinePage: ResponseEncodable {
    let orgID: UUID
    let items: [BaselineCatalogItem]
    let next: String?
}

struct BaselineRun: Encodable {
    let id: UUID, catalogItemID: UUID, userID: UUID?, apiKeyID: UUID?, cost: Int64, status: String, error: String?
    let createdAt: Date, startedAt: Date?, finishedAt: Date?
}

struct BaselineRunStarted: ResponseEncodable {
    let orgID: UUID
    let run: BaselineRun
    let balance: Int64
}

struct BaselineStartRun: Decodable {
    let itemID: UUID
    let cost: Int64
    let idempotencyKey: String?
}

extension AsyncSequence {
    /// Every element, in order.
    func gather() async throws -> [Element] {
        var elements: [Element] = []
        for try await element in self { elements.append(element) }
        return elements
    }
}

/// A jsonb `{string: string}` bind.
struct BaselineJSON: Encodable, PostgresEncodable {
    let values: [String: String]
    func encode(to encoder: any Encoder) throws { try values.encode(to: encoder) }
}

/// A jsonb `{string: string}` column.
struct BaselineMetadata: Decodable, PostgresDecodable {
    let values: [String: String]
    init(from decoder: any Decoder) throws { values = try [String: String](from: decoder) }
}

/// The baseline's pool (a `Service`: it runs the client) and its application.
final class BaselineServer: Service, Sendable {
    let client: PostgresClient
    let fixture: LoadFixture
    private let signer: ClaimSigner
    /// Each backend's process id, by postgres-nio connection id: a claim names the backend it is for.
    private let backendPIDs = NIOLockedValueBox([PostgresConnection.ID: Int32]())
    private let logger = Logger(label: "baseline", factory: { _ in SwiftLogNoOpLogHandler() })

    init(fixture: LoadFixture, poolSize: Int) {
        let p = fixture.appParameters
        var configuration: PostgresClient.Configuration
        let host = p["host"] ?? "127.0.0.1", port = Int(p["port"] ?? "5432") ?? 5432
        if host.hasPrefix("/") {
            configuration = .init(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: p["user"] ?? "tenantkit_app", password: p["password"], database: p["dbname"])
        } else {
            configuration = .init(host: host, port: port, username: p["user"] ?? "tenantkit_app", password: p["password"], database: p["dbname"], tls: .disable)
        }
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = 0
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.fixture = fixture
        signer = ClaimSigner(keyHex: fixture.keyHexSecret, keyID: fixture.keyID)
    }

    func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            await client.run()
        } onCancelOrGracefulShutdown: {}
    }

    func application(port: Int) -> some ApplicationProtocol {
        let router = Router(context: BaselineContext.self)
        router.get("/health") { _, _ in "ok" }
        let api = router.group().add(middleware: BaselineAuth(server: self))
        api.get("/catalog") { _, context -> BaselinePage in
            let principal = try context.requirePrincipal()
            return BaselinePage(orgID: principal.orgID, items: try await self.catalogPage(principal), next: nil)
        }
        api.get(RouterPath(LoadRoute.catalogWithoutEncoding)) { _, context -> String in
            String(try await self.catalogPage(try context.requirePrincipal()).count)
        }
        api.post("/runs") { request, context -> EditedResponse<BaselineRunStarted> in
            let input = try await request.decode(as: BaselineStartRun.self, context: context)
            let principal = try context.requirePrincipal()
            let key = input.idempotencyKey ?? "request-\(UUID().uuidString.lowercased())"
            let started = try await self.startRun(principal, itemID: input.itemID, cost: input.cost, idempotencyKey: key)
            return EditedResponse(status: .created, response: started)
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "baseline"))
    }

    // MARK: The statements

    /// The user and active organization of a session token (`tenantkit_session_resume`).
    func session(token: String) async throws -> BaselinePrincipal? {
        let hash = ByteBuffer(bytes: SHA256.hash(data: Array(token.utf8)))
        let rows = try await client.query(
            "SELECT id, user_id, active_org_id, version, expires_at FROM tenantkit_session_resume(\(hash))", logger: logger)
        for try await (_, userID, orgID, _, _) in rows.decode((UUID, UUID, UUID?, Int64, Date).self) {
            return orgID.map { .user(id: userID, orgID: $0) }
        }
        return nil
    }

    /// An API key's check before the handler: its claim, `tenantkit_use_api_key()` and `SELECT 1`.
    func checkAPIKey(_ principal: BaselinePrincipal) async throws {
        try await scoped(principal) { connection in
            _ = try await connection.query("SELECT 1", logger: self.logger)
        }
    }

    /// The catalog page: public items and the organization's own, by name then id, 50 of them.
    func catalogPage(_ principal: BaselinePrincipal) async throws -> [BaselineCatalogItem] {
        try await scoped(principal) { connection in
            let rows = try await connection.query("""
                (SELECT "catalog_items"."id", "catalog_items"."org_id", "catalog_items"."kind", "catalog_items"."slug", \
                "catalog_items"."name", "catalog_items"."metadata", "catalog_items"."created_at", "catalog_items"."updated_at" \
                FROM "catalog_items" WHERE "catalog_items"."org_id" = \(principal.orgID) \
                ORDER BY "catalog_items"."name", "catalog_items"."id" LIMIT \(Int64(50))) UNION ALL \
                (SELECT "catalog_items"."id", NULL::uuid, "catalog_items"."kind", "catalog_items"."slug", \
                "catalog_items"."name", "catalog_items"."metadata", "catalog_items"."created_at", "catalog_items"."updated_at" \
                FROM "public_catalog_items" AS "catalog_items" \
                ORDER BY "catalog_items"."name", "catalog_items"."id" LIMIT \(Int64(50))) \
                ORDER BY "name", "id" LIMIT \(Int64(50))
                """, logger: self.logger)
            var items: [BaselineCatalogItem] = []
            items.reserveCapacity(50)
            for try await (id, orgID, kind, slug, name, metadata, createdAt, updatedAt) in rows.decode(
                (UUID, UUID?, String, String, String, BaselineMetadata, Date, Date).self) {
                items.append(BaselineCatalogItem(id: id, orgID: orgID, kind: kind, slug: slug, name: name, metadata: metadata.values,
                                                 createdAt: createdAt, updatedAt: updatedAt))
            }
            return items
        }
    }

    /// A run: member check, the item, the run, the debit, the audit entry, then the balance.
    func startRun(_ principal: BaselinePrincipal, itemID: UUID, cost: Int64, idempotencyKey: String) async throws -> BaselineRunStarted {
        guard cost > 0 else { throw HTTPError(.unprocessableContent) }
        let orgID = principal.orgID
        let run = try await scoped(principal) { connection -> BaselineRun in
            if case .user(let userID, _) = principal {
                let roles = try await connection.query(
                    #"SELECT "memberships"."role" FROM "memberships" WHERE "memberships"."org_id" = \#(orgID) AND "memberships"."user_id" = \#(userID)"#,
                    logger: self.logger).decode(String.self).gather()
                guard let role = roles.first, role == "member" || role == "admin" else { throw HTTPError(.forbidden) }
            }
            let slugs = try await connection.query(#"""
                SELECT "catalog_items"."slug" FROM (SELECT "id", "slug" FROM "catalog_items" WHERE "catalog_items"."org_id" = \#(orgID) \#
                UNION ALL SELECT "id", "slug" FROM "public_catalog_items") AS "catalog_items" WHERE "catalog_items"."id" = \#(itemID)
                """#, logger: self.logger).decode(String.self).gather()
            guard let slug = slugs.first else { throw HTTPError(.notFound) }
            let rows = try await connection.query(#"""
                INSERT INTO "runs" ("org_id", "catalog_item_id", "cost", "status", "started_at") \#
                VALUES (\#(orgID), \#(itemID), \#(cost), \#("running"), now()) \#
                RETURNING "runs"."id", "runs"."catalog_item_id", "runs"."user_id", "runs"."api_key_id", "runs"."cost", \#
                "runs"."status", "runs"."error", "runs"."created_at", "runs"."started_at", "runs"."finished_at"
                """#, logger: self.logger)
            var inserted: BaselineRun?
            for try await (id, item, userID, keyID, cost, status, error, createdAt, startedAt, finishedAt) in rows.decode(
                (UUID, UUID, UUID?, UUID?, Int64, String, String?, Date, Date?, Date?).self) {
                inserted = BaselineRun(id: id, catalogItemID: item, userID: userID, apiKeyID: keyID, cost: cost, status: status, error: error,
                                       createdAt: createdAt, startedAt: startedAt, finishedAt: finishedAt)
            }
            guard let run = inserted else { throw HTTPError(.internalServerError) }
            let ledger = try await connection.query(#"""
                INSERT INTO "ecu_ledger" ("org_id", "amount", "reason", "idempotency_key", "run_id") \#
                VALUES (\#(orgID), \#(-cost), \#("run of \(slug)"), \#(idempotencyKey), \#(run.id)) \#
                RETURNING "ecu_ledger"."id", "ecu_ledger"."amount", "ecu_ledger"."reason", "ecu_ledger"."idempotency_key", \#
                "ecu_ledger"."balance_after", "ecu_ledger"."run_id", "ecu_ledger"."created_at"
                """#, logger: self.logger).decode((UUID, Int64, String, String, Int64, UUID?, Date).self).gather()
            guard !ledger.isEmpty else { throw HTTPError(.conflict) }  // a repeated key: TenantKit answers the first run
            let details = BaselineJSON(values: ["item": slug, "cost": "\(cost)", "idempotency_key": idempotencyKey])
            try await connection.query(
                #"INSERT INTO "audit_log" ("org_id", "action", "target", "details") VALUES (\#(orgID), \#("run.started"), \#(run.id.uuidString.lowercased()), \#(details))"#,
                logger: self.logger)
            return run
        }
        let balance = try await scoped(principal) { connection -> Int64 in
            let rows = try await connection.query(
                #"SELECT "ecu_accounts"."balance" FROM "ecu_accounts" WHERE "ecu_accounts"."org_id" = \#(orgID)"#, logger: self.logger)
            for try await balance in rows.decode(Int64.self) { return balance }
            throw HTTPError(.notFound)
        }
        return BaselineRunStarted(orgID: orgID, run: run, balance: balance)
    }

    /// `body` in a transaction whose first statement sets the principal's signed claim, as every
    /// TenantKit scope does (postgres-nio sends BEGIN, the claim, the work and COMMIT one by one).
    func scoped<T: Sendable>(_ principal: BaselinePrincipal, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let pid = try await self.backendPID(connection)
            return try await connection.withTransaction(logger: self.logger) { connection in
                let claim = self.signer.claim(principal, backendPID: pid)
                if case .apiKey = principal {
                    _ = try await connection.query("SELECT set_config('tenantkit.claim', \(claim), true), tenantkit_use_api_key()", logger: self.logger)
                } else {
                    _ = try await connection.query("SELECT set_config('tenantkit.claim', \(claim), true)", logger: self.logger)
                }
                return try await body(connection)
            }
        }
    }

    private func backendPID(_ connection: PostgresConnection) async throws -> Int32 {
        if let pid = backendPIDs.withLockedValue({ $0[connection.id] }) { return pid }
        var pid: Int32 = 0
        for try await value in try await connection.query("SELECT pg_backend_pid()", logger: logger).decode(Int32.self) { pid = value }
        backendPIDs.withLockedValue { $0[connection.id] = pid }
        return pid
    }
}

/// Authenticates like the example: a bearer API key (checked before the handler, in a round trip
/// of its own), else the session cookie (one lookup).
struct BaselineAuth: RouterMiddleware {
    typealias Context = BaselineContext
    let server: BaselineServer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer", let key = Self.apiKey(String(parts[1])) else { throw HTTPError(.unauthorized) }
            try await server.checkAPIKey(key)
            context.principal = key
        } else if let token = request.cookies[server.fixture.sessionCookieName]?.value,
                  let principal = try await server.session(token: token) {
            context.principal = principal
        } else {
            throw HTTPError(.unauthorized)
        }
        return try await next(request, context)
    }

    /// `tk_<key id>_<org id>_<secret>` (TenantKit's key text: ids as 32 hex digits).
    static func apiKey(_ text: String) -> BaselinePrincipal? {
        let parts = text.split(separator: "_", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "tk", let keyID = uuid(hex: parts[1]), let orgID = uuid(hex: parts[2]) else { return nil }
        return .apiKey(id: keyID, orgID: orgID, presentedHash: Array(SHA256.hash(data: Array(text.utf8))))
    }

    static func uuid(hex: Substring) -> UUID? {
        guard hex.count == 32 else { return nil }
        let h = Array(hex)
        let text = String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-" + String(h[20..<32])
        return UUID(uuidString: text)
    }
}

extension BaselineContext {
    func requirePrincipal() throws -> BaselinePrincipal {
        guard let principal else { throw HTTPError(.unauthorized) }
        return principal
    }
}

/// TenantKit's claim layout (Schema/0012), signed with HMAC-SHA256 from swift-crypto.
struct ClaimSigner: Sendable {
    let key: SymmetricKey
    let keyID: String

    init(keyHex: String, keyID: String) {
        var bytes: [UInt8] = []
        var digits = keyHex.utf8.makeIterator()
        while let high = digits.next(), let low = digits.next() { bytes.append(UInt8(Self.nibble(high) << 4 | Self.nibble(low))) }
        key = SymmetricKey(data: bytes)
        self.keyID = keyID
    }

    func claim(_ principal: BaselinePrincipal, backendPID: Int32, lifetime: Int = 120) -> String {
        var text = "1"
        switch principal {
        case .user(let id, _): text += "1" + keyID + Self.hex(id)
        case .apiKey(let id, _, _): text += "2" + keyID + Self.hex(id)
        }
        text += Self.hex(principal.orgID)
        if case .apiKey(_, _, let hash) = principal { text += Self.hex(hash) } else { text += String(repeating: "0", count: 64) }
        text += Self.hex(UInt64(UInt32(bitPattern: backendPID)), digits: 8)
        text += Self.hex(UInt64(Date().timeIntervalSince1970) + UInt64(lifetime), digits: 10)
        return text + Self.hex(Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)))
    }

    static func hex(_ id: UUID) -> String { withUnsafeBytes(of: id.uuid) { hex(Array($0)) } }
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (i, byte) in bytes.enumerated() {
                out[2 * i] = digits[Int(byte >> 4)]
                out[2 * i + 1] = digits[Int(byte & 15)]
            }
            return bytes.count * 2
        }
    }
    static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
    private static func nibble(_ digit: UInt8) -> UInt8 { digit <= 57 ? digit - 48 : (digit | 0x20) - 87 }
}
