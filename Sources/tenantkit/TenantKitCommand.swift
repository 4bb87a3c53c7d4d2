import ArgumentParser

@main
struct TenantKitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenantkit",
        abstract: "TenantKit: multi-tenant PostgreSQL for Swift back ends.",
        subcommands: [MigrateCommand.self, DoctorCommand.self, KeysCommand.self, CitusCommand.self, DemoCommand.self, DatabaseCommand.self]
    )
}
