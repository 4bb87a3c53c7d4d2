import Foundation
import TenantKitPostgres

/// The current schema in one file: `pg_dump --schema-only` of a database with every migration of
/// `Sources/TenantKit/Schema` applied, normalized so the same migrations always give the same text.
///
/// The checked-in copy is ``path`` (outside `Schema/`, which the migration runner reads as
/// migrations); a test fails while it is stale, and ``refreshCommand`` rewrites it.
///
/// ```swift
/// let sql = try await SchemaStructure.dump()
/// try sql.write(toFile: SchemaStructure.path, atomically: true, encoding: .utf8)
/// ```
public enum SchemaStructure {
    /// The checked-in copy, relative to the package root.
    public static let path = "Schema/structure.sql"

    /// The command that rewrites ``path``, run from the package root (`StructureTests` writes the
    /// fresh dump instead of comparing when the variable is set).
    public static let refreshCommand = "TENANTKIT_WRITE_STRUCTURE=1 swift test --filter StructureTests"

    /// The dump of a freshly migrated database (portable claim verifier, so the text does not
    /// depend on whether the server has the native extension), normalized.
    public static func dump() async throws -> String {
        try await TestDatabase.with(template: .migratedPortable) { db in
            normalized(try runPgDump(db.configuration))
        }
    }

    /// `dump` without what changes from run to run or machine to machine (versions, `\restrict`
    /// keys), and with a header saying what the file is.
    static func normalized(_ dump: String) -> String {
        let volatile = ["-- Dumped from database version", "-- Dumped by pg_dump version", "\\restrict ", "\\unrestrict "]
        let lines = dump.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { line in !volatile.contains { line.hasPrefix($0) } }
        return header + lines.joined(separator: "\n").trimmingCharacters(in: .newlines) + "\n"
    }

    static let header = """
        -- The current schema: every migration of Sources/TenantKit/Schema applied to an empty database,
        -- dumped with pg_dump --schema-only (portable claim verifier). Generated, do not edit; refresh with
        --     \(refreshCommand)
        -- Roles and database privileges are cluster or database level: see 0001_roles.sql and 0012.


        """

    private static func runPgDump(_ configuration: PostgresConfiguration) throws -> String {
        let local = (try? EmbeddedPostgres.findBinaries()).map { "\($0)/pg_dump" }
        let process = Process()
        if let local, FileManager.default.isExecutableFile(atPath: local) {
            process.executableURL = URL(fileURLWithPath: local)
            process.arguments = []
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["pg_dump"]
        }
        process.arguments! += ["--schema-only", "--dbname", configuration.url(maskingPassword: false)]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw EmbeddedPostgresError("pg_dump failed (exit \(process.terminationStatus)): \(String(decoding: message, as: UTF8.self))")
        }
        return String(decoding: text, as: UTF8.self)
    }
}
