import ArgumentParser

/// `runway`: the service and its operator commands.
@main
struct Runway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runway",
        abstract: "A multi-tenant JSON document store whose telemetry and cost per tenant are part of the product.",
        subcommands: [ServeCommand.self, MigrateCommand.self, TenantCommand.self, CostCommand.self, RoutesCommand.self]
    )
}
