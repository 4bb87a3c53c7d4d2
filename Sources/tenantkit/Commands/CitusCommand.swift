import ArgumentParser
import Foundation
import TenantKitMigrations
import TenantKitPostgres

/// `tenantkit citus`: TenantKit's schema on a Citus cluster.
struct CitusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "citus",
        abstract: "Distribute TenantKit's schema over a Citus cluster.",
        subcommands: [Distribute.self]
    )

    struct Distribute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the cluster, then distribute every TenantKit table, function and policy (idempotent).",
            discussion: """
                Run as a superuser on the coordinator after `tenantkit migrate` and `tenantkit keys install`. \
                Checks first, changing nothing on any problem: the citus extension, active workers, the TenantKit roles \
                on every worker (none superuser or BYPASSRLS), a signing key, the portable verifier. Then: parameter grants \
                on the workers, policies without subqueries, reference and distributed tables in order, every function on \
                every node, the claim bound to the coordinator's global process id. A second run changes nothing and says so.

                Exit codes: 0 distributed (or already), 1 the cluster is not ready or a step failed.
                """)

        @Option(name: .customLong("database-url"), help: "PostgreSQL URL of the coordinator, as a superuser (default: DATABASE_URL).")
        var databaseURL: String?

        func run() async throws {
            guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
                throw ValidationError("no database: pass --database-url or set DATABASE_URL")
            }
            do {
                let result = try await PostgresConnection.withConnection(try PostgresConfiguration(url: url)) {
                    try await CitusDistribution.distribute(on: $0)
                }
                for change in result.changes { print("changed: \(change)") }
                for table in result.untouchedTables { print("note: \(table) is not TenantKit's; distribute it yourself") }
                print(result.changes.isEmpty ? "already distributed: nothing changed" : "distributed: \(result.changes.count) changes")
            } catch let error as CitusDistribution.NotReady {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode.failure
            } catch let error as PostgresError {
                FileHandle.standardError.write(Data("error: \(error.detailedDescription)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}
