import ArgumentParser
import Foundation
import Postgres
import TenantKitTesting

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Walk through TenantKit on DATABASE_URL, or on a throwaway PostgreSQL when it is not set."
    )

    @Option(name: .customLong("database-url"), help: "PostgreSQL URL (default: DATABASE_URL, else a throwaway server).")
    var databaseURL: String?

    func run() async throws {
        var embedded: EmbeddedPostgres?
        let configuration: PostgresConfiguration
        if let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
            configuration = try PostgresConfiguration(url: url)
        } else {
            print("Starting a throwaway PostgreSQL (no DATABASE_URL given)...")
            let server = try await EmbeddedPostgres.start()
            embedded = server
            configuration = server.configuration
        }
        defer { embedded?.stop() }
        let connection = try await PostgresConnection.connect(configuration)
        let version = try await connection.fetchOne("SELECT version()", as: String.self)
        print("Connected to \(configuration)")
        print(version)
        await connection.close()
    }
}
