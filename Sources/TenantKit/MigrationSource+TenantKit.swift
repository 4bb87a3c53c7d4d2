import Foundation
import TenantKitMigrations

extension MigrationSource {
    /// TenantKit's own migrations (the schema of the organization model), shipped as a resource of
    /// this library and recorded as source `tenantkit`. Put the application's own after them:
    ///
    /// ```swift
    /// let migrator = Migrator(sources: [.tenantKit, .app("Migrations")])
    /// try await migrator.up(configuration: migrationRole)
    /// ```
    public static var tenantKit: MigrationSource {
        MigrationSource(tenantKitDirectory: Bundle.module.url(forResource: "Schema", withExtension: nil)?.path
            ?? Bundle.module.bundlePath + "/Schema")
    }

    /// TenantKit's migrations read from `directory` instead of the bundled copy (a checkout of
    /// TenantKit's `Sources/TenantKit/Schema`, say), still recorded as source `tenantkit`.
    public init(tenantKitDirectory directory: String) {
        self.init(uncheckedName: "tenantkit", directory: directory)
    }
}
