import Foundation
import Hummingbird
import StratixAPI
import TenantKit
import TenantKitHummingbird
import TenantKitMigrations
import TenantKitPostgres
import TenantKitEmbeddedPostgres

/// What both servers serve and what wrk presents: one organization with a signed-in admin, an
/// API key, ECU for every run of the load, and a catalog page of public plus private items.
/// Plain values only, so the baseline's file needs nothing of TenantKit.
struct LoadFixture: Sendable {
    /// libpq-style keywords of the application role (`tenantkit_app`).
    var appParameters: [String: String]
    /// The signing key's secret, hex: the baseline signs its claims with it, as TenantKit does.
    var keyHexSecret: String
    var keyID: String
    var userID: UUID
    var orgID: UUID
    var sessionCookieName: String
    var sessionToken: String
    var apiKey: String
    /// A public catalog item the runs are started on.
    var itemID: UUID
}

/// The throwaway database and TenantKit's side of the comparison.
final class LoadWorld: Sendable {
    let server: EmbeddedPostgres
    let operatorPool: PostgresPool
    let store: TenantStore
    let fixture: LoadFixture
    let sessionCookieName = StratixConfiguration().sessionCookieName

    /// Public and private items: one page of TenantKit's default 50, without a next page (a full
    /// page always has a cursor, whose text is TenantKit's own).
    static let publicItems = 20, privateItems = 29

    private init(server: EmbeddedPostgres, operatorPool: PostgresPool, store: TenantStore, fixture: LoadFixture) {
        self.server = server
        self.operatorPool = operatorPool
        self.store = store
        self.fixture = fixture
    }

    /// Starts PostgreSQL, migrates, installs a fresh key and seeds the fixture through TenantKit's
    /// public API (as the example service would).
    static func start(poolSize: Int) async throws -> LoadWorld {
        let server = try await EmbeddedPostgres.start()
        do {
            let owner = server.configuration
            _ = try await Migrator(sources: [.tenantKit]).up(configuration: owner)
            let key = TenantContextKey.generate()
            try await PostgresConnection.withConnection(owner) { connection in
                try await key.install(on: connection)
                for n in 1...publicItems {
                    try await connection.execute(
                        "INSERT INTO public_catalog_items (kind, slug, name, metadata) VALUES ('model', \("public-\(n)"), \("Public model \(n)"), \(JSONB(["family": "public", "context": "128k"])))")
                }
            }
            let app = owner.with(user: "tenantkit_app")
            let store = TenantStore(pool: PostgresPool(configuration: app, maxConnections: poolSize), key: key)
            let operatorPool = PostgresPool(configuration: owner, maxConnections: 1)

            let user = try await store.createUser(email: "ada@acme.test", displayName: "Ada", emailVerified: true)
            _ = try await store.signIn(userID: user.id)
            let opened = try await store.openSession(for: user.id, lifetime: .seconds(24 * 3600))
            let orgID = try await opened.session.createOrganization(named: "Acme")
            _ = try await store.platformOperator(UUID(), in: orgID, on: operatorPool).credits
                .grant(1_000_000_000, reason: "load test", idempotencyKey: "load")
            let issued = try await opened.session.write { org in
                for n in 1...privateItems {
                    _ = try await org.catalog.create(kind: "model", slug: "acme-\(n)", name: "Acme model \(n)", metadata: ["family": "acme"])
                }
                return try await org.apiKeys.create(name: "sdk terminal")
            }
            let page = try await opened.session.read { org in try await org.catalog.page(limit: 50) }
            guard page.value.items.count == publicItems + privateItems, page.value.next == nil,
                  let item = page.value.items.first(where: \.isPublic) else {
                throw LoadError("the seeded catalog page has \(page.value.items.count) items, expected \(publicItems + privateItems) on one page")
            }
            let fixture = LoadFixture(
                appParameters: app.parameters, keyHexSecret: key.hexSecret, keyID: key.id, userID: user.id, orgID: orgID,
                sessionCookieName: StratixConfiguration().sessionCookieName, sessionToken: opened.token, apiKey: issued.value.secret, itemID: item.id)
            return LoadWorld(server: server, operatorPool: operatorPool, store: store, fixture: fixture)
        } catch {
            server.stop()
            throw error
        }
    }

    /// The example's router, plus the catalog read without the encoding (the database part).
    func tenantKitApplication(port: Int) -> some ApplicationProtocol {
        var configuration = StratixConfiguration()
        configuration.secureCookies = false
        let router = StratixService.router(store: store, configuration: configuration)
        router.group()
            .add(middleware: TenantAuthMiddleware<StratixRequestContext>(
                store: store, sessions: TenantStoreSessions(store: store), sessionCookieName: sessionCookieName))
            .get(RouterPath(LoadRoute.catalogWithoutEncoding)) { _, context -> String in
                let page = try await context.read { org in try await org.catalog.page(limit: 50) }
                return String(page.value.items.count)
            }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "tenantkit"))
    }

    /// Turns statement logging on or off for the whole server (to show what each side sends).
    func logStatements(_ on: Bool) async throws {
        try await PostgresConnection.withConnection(server.configuration) { connection in
            try await connection.execute(PostgresQuery(unsafeSQL: "ALTER SYSTEM SET log_statement = '\(on ? "all" : "none")'"))
            try await connection.execute("SELECT pg_reload_conf()")
        }
        try await Task.sleep(for: .milliseconds(300))
    }

    /// Writes a marker into the server's log; ``statementsSinceMark()`` prints what came after it.
    func markLog() async throws {
        try await PostgresConnection.withConnection(server.configuration) { connection in
            try await connection.execute(PostgresQuery(unsafeSQL: "SELECT '\(Self.logMark)'"))
        }
    }

    /// The statements logged since the last ``markLog()``, one per line.
    func statementsSinceMark() async throws -> String {
        let lines = server.logTail(lines: 400).split(separator: "\n")
        let start = (lines.lastIndex { $0.contains(Self.logMark) } ?? -1) + 1
        return lines[start...].filter { $0.contains("statement:") || $0.contains("execute") || $0.contains("ERROR") || $0.contains("DETAIL") }
            .joined(separator: "\n")
    }

    private static let logMark = "stratix-load log mark"

    func stop() async {
        await store.pool.close()
        await operatorPool.close()
        server.stop()
    }
}

/// Routes the load adds to both servers.
enum LoadRoute {
    /// `GET /catalog`'s work without encoding the page: answers the item count.
    static let catalogWithoutEncoding = "/load/catalog-db"
}

struct LoadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
