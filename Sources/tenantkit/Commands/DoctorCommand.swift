import ArgumentParser
import Foundation
import TenantKitDoctor
import TenantKitMigrations
import TenantKit
import TenantKitPostgres

/// `tenantkit doctor`: the start-up self-check, from the command line.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check, connected as the application role, that tenant isolation holds.",
        discussion: """
            Reports: an app role that is superuser, has BYPASSRLS or owns tables; a table with org_id lacking ENABLE or FORCE ROW LEVEL SECURITY or a policy for the app; a policy that trusts a plain setting instead of the verified org, or verifies per row; a table with org_id without an index led by org_id; a view without security_invoker; a SECURITY DEFINER function without a pinned search_path, with one that reaches the caller's pg_temp, or executable by PUBLIC; a function the app may execute that no migration created; an app role that may create temporary objects, publishes its SQL in pg_stat_activity or has role defaults; a tenantkit.* setting set outside a transaction; pending or changed migrations.

            Exit codes: 0 no findings, 1 findings or an error.
            """
    )

    @Option(name: .customLong("database-url"), help: "PostgreSQL URL (default: DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .customLong("app-user"), help: "Role to connect as, replacing the URL's user (the password then comes from PGPASSWORD or ~/.pgpass).")
    var appUser = "tenantkit_app"

    @OptionGroup var sources: SourceOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw ValidationError("no database: pass --database-url or set DATABASE_URL")
        }
        var configuration = try PostgresConfiguration(url: url)
        if configuration.user != appUser { configuration = configuration.with(user: appUser) }
        let migrator = Migrator(sources: sources.sources)
        let report: DoctorReport
        do {
            report = try await Doctor.check(configuration: configuration, migrator: migrator)
        } catch let error as PostgresError {
            FileHandle.standardError.write(Data("error: \(error.detailedDescription)\n".utf8))
            throw ExitCode.failure
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        if json {
            print(try jsonText(report))
        } else {
            for note in report.notes { print("note: \(note)") }
            switch report.contextVerifier {
            case .native: print("note: claims are verified by the native verifier (extension tenantkit_context)")
            case .portable: print("note: claims are verified by the portable plpgsql verifier, about 90 us per statement; "
                + "for the native one install Extensions/tenantkit_context on the server and run SELECT tenantkit.use_native_verifier() as the migration role")
            case nil: break
            }
            if report.isHealthy {
                print("ok: no findings for role \(report.role)")
            } else {
                for finding in report.findings { print("FAIL \(finding)") }
                print("\(report.findings.count) finding\(report.findings.count == 1 ? "" : "s") for role \(report.role)")
            }
        }
        if !report.isHealthy { throw ExitCode.failure }
    }
}
