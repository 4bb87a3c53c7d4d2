import ArgumentParser

@main
struct TenantKitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenantkit",
        abstract: "TenantKit: multi-tenant PostgreSQL for Swift back ends.",
        subcommands: [DemoCommand.self, DatabaseCommand.self]
    )
}
