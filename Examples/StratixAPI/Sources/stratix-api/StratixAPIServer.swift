// The Stratix API server. Without DATABASE_URL it runs on a throwaway PostgreSQL: started here,
// migrated, given a fresh signing key and a small public catalog, and removed at exit.
//
//     swift run --package-path Examples/StratixAPI stratix-api          # http://127.0.0.1:8080
//
// With DATABASE_URL (the application role's, `tenantkit_app`) it serves a database deployed as
// the main README's "Deployment" says: migrated, key installed (TENANTKIT_CONTEXT_KEY), public
// catalog seeded. STRATIX_OPERATOR_URL, a platform operator's login, enables welcome credits.
import Foundation
import Hummingbird
import Logging
import TenantKitMigrations
import TenantKitPostgres
import StratixAPI
import TenantKit
import TenantKitHummingbird
import TenantKitEmbeddedPostgres

@main
struct StratixAPIServer {
    static func main() async throws {
        let environment = ProcessInfo.processInfo.environment
        let port = Int(environment["PORT"] ?? "") ?? 8080
        var configuration = StratixConfiguration()
        let database: Database
        if let url = environment["DATABASE_URL"], !url.isEmpty {
            database = try Database.deployed(url: url, operatorURL: environment["STRATIX_OPERATOR_URL"])
        } else {
            print("Starting a throwaway PostgreSQL (no DATABASE_URL given)...")
            database = try await Database.throwaway()
            configuration.secureCookies = false  // plain HTTP on localhost
        }
        defer { database.embedded?.stop() }
        if let operatorPool = database.operatorPool {
            configuration.welcomeCredits = StratixWelcomeCredits(amount: 100, operatorPool: operatorPool, operatorID: UUID())
        }

        // The pool's log lines carry the id of the request that caused them.
        let logger = Logger(label: "stratix.api", metadataProvider: TenantRequestID.metadataProvider)
        let store = TenantStore(pool: PostgresPool(configuration: database.app, maxConnections: 8, logger: logger), key: database.key)
        let service = StratixService.application(
            store: store, listening: database.app, configuration: configuration,
            address: .hostname("127.0.0.1", port: port), logger: logger)
        print("Stratix API on http://127.0.0.1:\(port) (Ctrl-C stops it)")
        do {
            try await service.runService()  // SIGINT/SIGTERM: graceful shutdown
        } catch {
            await database.operatorPool?.close()
            throw error
        }
        await database.operatorPool?.close()
    }
}

/// Where the service's data lives.
struct Database {
    /// The application role's connection settings.
    let app: PostgresConfiguration
    let key: TenantContextKey
    /// A platform operator's login, for welcome credits; nil grants none.
    let operatorPool: PostgresPool?
    /// The throwaway server, when there is one.
    let embedded: EmbeddedPostgres?

    /// A deployed database: the app role's URL, the key from the environment.
    static func deployed(url: String, operatorURL: String?) throws -> Database {
        Database(
            app: try PostgresConfiguration(url: url), key: try TenantContextKey.fromEnvironment(),
            operatorPool: try operatorURL.map { PostgresPool(configuration: try PostgresConfiguration(url: $0), maxConnections: 1) },
            embedded: nil)
    }

    /// A throwaway server, migrated, with a fresh key and a public catalog.
    static func throwaway() async throws -> Database {
        let server = try await EmbeddedPostgres.start()
        do {
            let owner = server.configuration
            let migrated = try await Migrator(sources: [.tenantKit]).up(configuration: owner)
            print("Migrated: \(migrated.applied.count) migration(s) applied")
            // A key for this throwaway database only: it goes away with it.
            let key = TenantContextKey.generate()
            try await PostgresConnection.withConnection(owner) { connection in
                try await key.install(on: connection)
                // The public catalog is the platform's: rows with no org, written as the owner.
                for (slug, name) in [("gpt-4o", "GPT-4o"), ("llama-3-70b", "Llama 3 70B"), ("mistral-large", "Mistral Large")] {
                    try await connection.execute("INSERT INTO public_catalog_items (kind, slug, name) VALUES ('model', \(slug), \(name))")
                }
            }
            // The throwaway server's superuser stands in for a platform operator's login.
            return Database(app: owner.with(user: "tenantkit_app"), key: key,
                            operatorPool: PostgresPool(configuration: owner, maxConnections: 1), embedded: server)
        } catch {
            server.stop()
            throw error
        }
    }
}
