import Foundation
import TenantKitMigrations
import TenantKitPostgres
import TenantKitTesting

/// The package's real migrations.
let schemaDirectory = TestDatabaseTemplate.schemaDirectory

/// Every `.sql` file of `Schema/`, by name.
func schemaFiles() throws -> [String: String] {
    var files: [String: String] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: schemaDirectory) where name.hasSuffix(".sql") {
        files[name] = try String(contentsOfFile: "\(schemaDirectory)/\(name)", encoding: .utf8)
    }
    return files
}

/// A temporary directory holding `files` (name -> SQL), removed after `body`.
func withMigrationFiles<T>(_ files: [String: String], _ body: (String) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tk-migrations-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    for (name, text) in files { try writeFile(directory, name, text) }
    return try await body(directory)
}

func writeFile(_ directory: String, _ name: String, _ text: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name))
}

/// Runs `body` on a fresh connection, closing it afterwards.
func withConnection<T>(_ configuration: PostgresConfiguration, _ body: (PostgresConnection) async throws -> T) async throws -> T {
    try await PostgresConnection.withConnection(configuration, body)
}

/// Whether `name` (such as `public.t`) exists.
func relationExists(_ connection: PostgresConnection, _ name: String) async throws -> Bool {
    try await connection.fetchOne("SELECT to_regclass(\(name)) IS NOT NULL", as: Bool.self)
}

/// The versions recorded in schema_migrations, or nil when the table does not exist.
func recordedVersions(_ connection: PostgresConnection) async throws -> [Int]? {
    guard try await relationExists(connection, "public.schema_migrations") else { return nil }
    return try await connection.fetchAll("SELECT version FROM public.schema_migrations ORDER BY version", as: Int.self)
}

/// A role name nobody else uses: roles are cluster-wide and tests run in parallel.
func uniqueRoleName(_ prefix: String) -> String {
    // tk_throwaway_: the injection suite's snapshots leave such roles out (see DatabaseSnapshot).
    "tk_throwaway_\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())"
}

/// Creates a login role with `attributes` for the duration of `body`, then drops it.
func withThrowawayRole<T>(
    _ prefix: String, attributes: String, _ body: (String) async throws -> T
) async throws -> T {
    let role = uniqueRoleName(prefix)
    let admin = try await TestServer.shared.admin()
    // The migrated template creates tenantkit_app and tenantkit_owner, which `attributes` may name.
    try await TestDatabase.create(template: .migrated).drop()
    // Never while the injection suite checks that the cluster's roles stay as they are.
    let roles = ClusterRoleChanges.shared
    try await roles.change {
        try await withConnection(admin) { try await $0.executeScript(unsafeSQL: "CREATE ROLE \(PostgresIdentifier(role)) LOGIN \(attributes)") }
    }
    do {
        let result = try await body(role)
        try await roles.change {
            try await withConnection(admin) { try await $0.executeScript(unsafeSQL: "DROP ROLE \(PostgresIdentifier(role))") }
        }
        return result
    } catch {
        try? await roles.change {
            try await withConnection(admin) { try await $0.executeScript(unsafeSQL: "DROP ROLE IF EXISTS \(PostgresIdentifier(role))") }
        }
        throw error
    }
}

/// Runs `body` expecting a `PostgresError`; returns it (and fails the test by throwing otherwise).
func expectPostgresError<T>(_ body: () async throws -> T) async throws -> PostgresError {
    do {
        _ = try await body()
    } catch let error as PostgresError {
        return error
    }
    throw ExpectationFailure("expected a PostgreSQL error, but the statement succeeded")
}

/// Runs `body` expecting a `MigrationError`.
func expectMigrationError<T>(_ body: () async throws -> T) async throws -> MigrationError {
    do {
        _ = try await body()
    } catch let error as MigrationError {
        return error
    }
    throw ExpectationFailure("expected a MigrationError, but the call succeeded")
}

struct ExpectationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
