import Foundation
import TenantKitMigrations
import TenantKitPostgres
import TenantKit

extension TestDatabaseTemplate {
    /// A database with every migration of the package's `Schema/` applied, as the superuser, and
    /// ``TenantKit/TenantContextKey/forTesting`` installed.
    ///
    /// ```swift
    /// try await TestDatabase.with(template: .migrated) { db in
    ///     let app = try await db.connect(user: "tenantkit_app")
    /// }
    /// ```
    ///
    /// Its fingerprint hashes the files' names and contents, so a changed migration rebuilds the
    /// template on a shared `DATABASE_URL` server.
    ///
    /// The claim verifier is the native one where the server has `Extensions/tenantkit_context`
    /// installed, the portable one otherwise; ``migratedPortable`` always has the portable one.
    public static let migrated = migrated(verifier: .native)

    /// ``migrated`` with the portable (plpgsql) claim verifier, also where the native one is available.
    public static let migratedPortable = migrated(verifier: .portable)

    private static func migrated(verifier: ContextVerifier) -> TestDatabaseTemplate {
        let directory = schemaDirectory
        return TestDatabaseTemplate(name: "migrated" + verifier.templateSuffix, fingerprint: schemaFingerprint(directory)) { configuration in
            try await migrate(configuration, directory: directory, verifier: verifier)
            try await PostgresConnection.withConnection(configuration) { try await TenantContextKey.forTesting.install(on: $0) }
        }
    }

    /// Applies `Schema/`, asking 0017 to keep the portable verifier when `verifier` is `.portable`.
    static func migrate(_ configuration: PostgresConfiguration, directory: String, verifier: ContextVerifier) async throws {
        let session = verifier == .portable ? configuration.with("options", "-c tenantkit.context_verifier=portable") : configuration
        try await Migrator(directory: directory).up(configuration: session)
    }

    /// Which claim verifier a template asks for (Schema/0017).
    public enum ContextVerifier: Sendable {
        /// The extension's C verifier where the server has it; the portable one where it does not.
        case native
        /// The plpgsql verifier of Schema/0012, which runs on any PostgreSQL.
        case portable

        var templateSuffix: String { self == .portable ? "_portable" : "" }
    }

    /// TenantKit's migrations directory (``TenantKitMigrations/MigrationSource/tenantKit``, the copy bundled with the library).
    public static var schemaDirectory: String { MigrationSource.tenantKit.directory }

    /// SHA-256 over every `.sql` file's name and bytes, in name order.
    static func schemaFingerprint(_ directory: String) -> String {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".sql") }.sorted()
        var bytes: [UInt8] = []
        for name in names {
            bytes += Array(name.utf8) + [0]
            bytes += SHA256.digest((try? Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name))) ?? Data())
        }
        return String(SHA256.hex(bytes).prefix(16))
    }
}
