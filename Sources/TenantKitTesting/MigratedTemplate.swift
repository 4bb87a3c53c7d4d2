import Foundation
import Migrations
import Postgres
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
    public static let migrated: TestDatabaseTemplate = {
        let directory = schemaDirectory
        return TestDatabaseTemplate(name: "migrated", fingerprint: schemaFingerprint(directory)) { configuration in
            try await Migrator(directory: directory).up(configuration: configuration)
            try await PostgresConnection.withConnection(configuration) { try await TenantContextKey.forTesting.install(on: $0) }
        }
    }()

    /// The package's `Schema/` directory, found from this source file's location.
    public static var schemaDirectory: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // TenantKitTesting
            .deletingLastPathComponent()  // Sources
            .deletingLastPathComponent()  // package root
            .appendingPathComponent("Schema").path
    }

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
