import ArgumentParser
import Foundation
import TenantKitPostgres
import TenantKit

/// `tenantkit keys`: makes and installs the key the application signs its tenant context with.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Make and install the tenant-context signing key.",
        subcommands: [Generate.self, Install.self]
    )

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new random key (64 hex digits) for TENANTKIT_CONTEXT_KEY or TENANTKIT_CONTEXT_KEY_FILE.")

        func run() async throws {
            print(TenantContextKey.generate().hexSecret)
        }
    }

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store the key of TENANTKIT_CONTEXT_KEY (or _FILE) in the database for verification, as the migration role.",
            discussion: "Installing the same key again does nothing. The application's own connections never need this; the migration role (a member of tenantkit_owner) does it once per database and key.")

        @Option(name: .customLong("database-url"), help: "PostgreSQL URL of the migration role (default: DATABASE_URL).")
        var databaseURL: String?

        func run() async throws {
            guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
                throw ValidationError("no database: pass --database-url or set DATABASE_URL")
            }
            let key = try TenantContextKey.fromEnvironment()
            try await PostgresConnection.withConnection(try PostgresConfiguration(url: url)) { try await key.install(on: $0) }
            print("installed context key \(key.id)")
        }
    }
}
