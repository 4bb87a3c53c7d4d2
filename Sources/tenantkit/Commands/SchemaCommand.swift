import ArgumentParser
import Foundation
import TenantKitTesting

/// `tenantkit schema dump`: writes the current schema in one file (`Schema/structure.sql`).
struct SchemaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Show TenantKit's schema as the migrations leave it.",
        subcommands: [Dump.self]
    )

    struct Dump: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Migrate a throwaway database and print its schema (pg_dump --schema-only, normalized).",
            discussion: "Uses a throwaway PostgreSQL, or DATABASE_URL's server when it is set (its role needs CREATEDB). "
                + "From the package root, `\(SchemaStructure.refreshCommand)` refreshes the checked-in copy.")

        @Option(name: .long, help: "Write to this file instead of standard output.")
        var output: String?

        func run() async throws {
            let structure = try await SchemaStructure.dump()
            if let output {
                let file = URL(fileURLWithPath: output)
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(structure.utf8).write(to: file)
            } else {
                FileHandle.standardOutput.write(Data(structure.utf8))
            }
        }
    }
}
