/// A directory of numbered migration files and the name its migrations are recorded under.
///
/// Each source numbers its files on its own (`0001`, `0002`, ... without gaps), and
/// `public.schema_migrations` keeps them apart by source, so TenantKit's migrations and an
/// application's never compete for a version:
///
/// ```swift
/// Migrator(sources: [.tenantKit, .app("Migrations")])
/// ```
public struct MigrationSource: Sendable, Hashable, Encodable {
    /// Recorded with every migration of this source (`schema_migrations.source`).
    public let name: String
    /// The directory holding its `NNNN_name.sql` files.
    public let directory: String

    /// A source named `name` (lowercase letters, digits and `_`; not `tenantkit`, which is
    /// TenantKit's own) reading `directory`.
    public init(name: String, directory: String) throws {
        guard !name.isEmpty, name.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }) else {
            throw MigrationError(.invalidName, "a migration source name is lowercase letters, digits and _, not \"\(name)\"")
        }
        guard name != "tenantkit" else {
            throw MigrationError(.invalidName, "the migration source name tenantkit is TenantKit's own: name the application's source otherwise")
        }
        self.init(uncheckedName: name, directory: directory)
    }

    /// The application's own migrations in `directory`, recorded as source `app`.
    public static func app(_ directory: String = "Migrations") -> MigrationSource {
        MigrationSource(uncheckedName: "app", directory: directory)
    }

    /// For names known to be valid (`tenantkit`, `app`).
    package init(uncheckedName name: String, directory: String) {
        self.name = name
        self.directory = directory
    }
}
