import ArgumentParser
import Foundation
import TenantKitMigrations
import TenantKitPostgres
import TenantKit

/// `tenantkit migrate`: applies, lists, verifies and creates the numbered SQL migrations.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply TenantKit's migrations, then the application's in ./Migrations (up is the default).",
        discussion: """
            Two sources of migrations, applied in this order: TenantKit's own (bundled with the tool; --schema-dir reads them from a directory instead) and the application's (--migrations, default ./Migrations when it exists). Each source numbers its files from 0001 on its own and is recorded under its own name (tenantkit, app), so the two never compete for a version. `migrate new` writes into the application's directory.

            Migrations are files named NNNN_name.sql. Each runs in its own transaction together with its row in public.schema_migrations (source, version, name, checksum, applied_at, duration_ms). A file whose first line is `-- tenantkit:no-transaction` holds one statement and runs outside a transaction. An advisory lock keeps concurrent runners from applying anything twice.

            Exit codes:
              0  success; status and verify: up to date
              1  failure: a migration failed (rolled back, nothing recorded), a connection error, or the lock was not free within --lock-timeout
              2  pending migrations (status, verify)
              3  drift: an applied file changed or disappeared (up, status, verify)
              4  invalid migrations directory: a bad file name, a duplicate version or a gap (nothing ran)
            """,
        subcommands: [Up.self, Status.self, Verify.self, New.self],
        defaultSubcommand: Up.self
    )

    enum Exit {
        static let failure = ExitCode(1)
        static let pending = ExitCode(2)
        static let drift = ExitCode(3)
        static let invalidDirectory = ExitCode(4)
    }

    struct Options: ParsableArguments {
        @Option(name: .customLong("database-url"), help: "PostgreSQL URL to migrate (default: DATABASE_URL).")
        var databaseURL: String?

        @OptionGroup var sources: SourceOptions

        @Option(name: .customLong("lock-timeout"), help: "Seconds to wait for another runner's migration lock.")
        var lockTimeout: Double = 30

        var migrator: Migrator {
            Migrator(sources: sources.sources, lockTimeout: .milliseconds(Int64(max(0, lockTimeout) * 1000)))
        }

        func postgresConfiguration() throws -> PostgresConfiguration {
            guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
                throw ValidationError("no database: pass --database-url or set DATABASE_URL")
            }
            return try PostgresConfiguration(url: url)
        }
    }

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply every pending migration, in order.")

        @OptionGroup var options: Options

        @Flag(name: .customLong("dry-run"), help: "Print the SQL that would run; change nothing.")
        var dryRun = false

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() async throws {
            try await reportingMigrationErrors {
                let configuration = try options.postgresConfiguration()
                let json = self.json
                let run = try await options.migrator.up(configuration: configuration, dryRun: dryRun) { event in
                    guard !json else { return }
                    if case .applied(let done) = event {
                        print("applied \(done.displayName) (\(done.durationMs) ms\(done.ranInTransaction ? "" : ", no transaction"))")
                    }
                }
                if json {
                    print(try jsonText(run))
                } else if let script = run.script {
                    print(run.pending.isEmpty ? "-- nothing to apply: the database is up to date" : script, terminator: "")
                } else if run.applied.isEmpty {
                    print("up to date (\(run.alreadyApplied) migrations applied)")
                } else {
                    print("applied \(run.applied.count) migration\(run.applied.count == 1 ? "" : "s"); \(run.alreadyApplied + run.applied.count) in total")
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every migration as applied, pending, changed or missing. Exit 2 when some are pending, 3 on drift.")

        @OptionGroup var options: Options

        @Flag(help: "Print the status as JSON.")
        var json = false

        func run() async throws {
            try await reportingMigrationErrors {
                let status = try await options.migrator.status(configuration: try options.postgresConfiguration())
                if json {
                    print(try jsonText(status))
                } else {
                    let formatter = ISO8601DateFormatter()
                    for state in status.migrations {
                        var line = "\(state.state.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(state.displayName)"
                        if let at = state.appliedAt { line += "  \(formatter.string(from: at))" }
                        if let ms = state.durationMs { line += "  \(ms) ms" }
                        print(line)
                    }
                    print("\(status.migrations.count - status.pending.count - status.drift.count) applied, "
                        + "\(status.pending.count) pending, \(status.drift.count) drifted")
                }
                if !status.drift.isEmpty { throw Exit.drift }
                if !status.pending.isEmpty { throw Exit.pending }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that every applied migration still matches its file. Exit 3 on drift, 2 when some are pending.")

        @OptionGroup var options: Options

        func run() async throws {
            try await reportingMigrationErrors {
                let status = try await options.migrator.verify(configuration: try options.postgresConfiguration())
                if status.pending.isEmpty {
                    print("ok: \(status.migrations.count) migrations applied, all match their files")
                } else {
                    print("applied migrations match their files; pending: \(status.pending.map(\.displayName).joined(separator: ", "))")
                    throw Exit.pending
                }
            }
        }
    }

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the next migration file, NNNN_name.sql.")

        @Argument(help: "What the migration does, such as add_widgets.")
        var name: String

        @Option(name: .customLong("migrations"), help: "The application's migrations directory (created when missing).")
        var migrationsDirectory = SourceOptions.defaultAppDirectory

        func run() async throws {
            try await reportingMigrationErrors {
                print(try Migrator(sources: [.app(migrationsDirectory)]).createMigration(named: name))
            }
        }
    }
}

/// Where the migrations come from: TenantKit's, then the application's.
struct SourceOptions: ParsableArguments {
    static let defaultAppDirectory = "Migrations"

    @Option(name: .customLong("migrations"), help: "The application's migrations directory (default: ./Migrations when it exists).")
    var migrationsDirectory: String?

    @Option(name: .customLong("schema-dir"), help: "Read TenantKit's own migrations from this directory instead of the copy bundled with the tool.")
    var schemaDirectory: String?

    var sources: [MigrationSource] {
        let tenantKit = schemaDirectory.map(MigrationSource.init(tenantKitDirectory:)) ?? .tenantKit
        if let migrationsDirectory { return [tenantKit, .app(migrationsDirectory)] }
        if FileManager.default.fileExists(atPath: Self.defaultAppDirectory) { return [tenantKit, .app(Self.defaultAppDirectory)] }
        return [tenantKit]
    }
}

/// Prints a ``MigrationError`` to standard error and exits with its documented code.
private func reportingMigrationErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as MigrationError {
        var text = "error: \(error)\n"
        if error.kind == .directoryNotFound {
            text += "hint: pass --migrations DIR for the application's migrations (`tenantkit migrate new NAME --migrations DIR` creates it), "
                + "or --schema-dir DIR for TenantKit's own\n"
        }
        FileHandle.standardError.write(Data(text.utf8))
        switch error.kind {
        case .drift: throw MigrateCommand.Exit.drift
        case .invalidDirectory, .directoryNotFound, .invalidName: throw MigrateCommand.Exit.invalidDirectory
        default: throw MigrateCommand.Exit.failure
        }
    } catch let error as PostgresError {
        FileHandle.standardError.write(Data("error: \(error.detailedDescription)\n".utf8))
        throw MigrateCommand.Exit.failure
    } catch let error as PostgresClientError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw MigrateCommand.Exit.failure
    }
}

func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    encoder.keyEncodingStrategy = .convertToSnakeCase
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
