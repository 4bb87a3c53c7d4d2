import ArgumentParser
import Foundation
import TenantKitPostgres
import TenantKitEmbeddedPostgres

/// The organization model end to end: migrate, create users and organizations, invite, switch,
/// spend credits, use an API key, and check the audit log.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Walk through TenantKit on DATABASE_URL, or on a throwaway PostgreSQL when it is not set.",
        discussion: """
            With a URL, migrations run as that user and the demo then works as tenantkit_app on the same \
            server (give --app-url when that role needs a password). Each run uses fresh names, so it can \
            be repeated on one database.
            """
    )

    @Option(name: .customLong("database-url"), help: "PostgreSQL URL to migrate with (default: DATABASE_URL, else a throwaway server).")
    var databaseURL: String?

    @Option(name: .customLong("app-url"), help: "URL for the application role (default: the database URL as user tenantkit_app).")
    var appURL: String?


    func run() async throws {
        var embedded: EmbeddedPostgres?
        let owner: PostgresConfiguration
        if let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
            owner = try PostgresConfiguration(url: url)
        } else {
            print("Starting a throwaway PostgreSQL (no DATABASE_URL given)...")
            let server = try await EmbeddedPostgres.start()
            embedded = server
            owner = server.configuration
        }
        defer { embedded?.stop() }
        let app = try appURL.map(PostgresConfiguration.init(url:)) ?? owner.with(user: "tenantkit_app")
        try await DemoStory(owner: owner, app: app) { print($0) }.tell()
    }
}

