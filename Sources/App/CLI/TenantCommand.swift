import ArgumentParser
import Foundation

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Create, list and re-key tenants.",
        subcommands: [Create.self, List.self, RotateKey.self, SetPlan.self])

    /// JSON for `--json` output: sorted keys, ISO 8601 dates, one object per command.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func failure(_ error: any Error) -> any Error {
        switch error {
        case TenantStore.Failure.duplicateName: CommandFailure(description: "a tenant of that name exists")
        case TenantStore.Failure.unknownPlan: CommandFailure(description: "no such plan (see the admin API's /admin/v1/plans)")
        case TenantStore.Failure.unknownTenant: CommandFailure(description: "no such tenant")
        default: error
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant and print its API key, once.")

        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant's name (unique).") var name: String
        @Option(help: "The tenant's plan.") var plan: String = "free"
        @Flag(help: "Print one JSON object instead of text.") var json = false

        func run() async throws {
            try await runCommand {
                let configuration = try common.configuration()
                let logger = bootstrapLogging(level: configuration.logLevel, toStandardError: true)
                let name = try TenantName.validate(name)
                let plan = plan
                let (tenant, key) = try await withPreparedDatabase(configuration, logger: logger) { database in
                    do {
                        return try await TenantStore(database: database).createTenant(name: name, plan: plan, logger: logger)
                    } catch { throw TenantCommand.failure(error) }
                }
                if json {
                    try TenantCommand.printJSON(AdminRoutes.CreatedTenant(tenant: tenant, apiKey: key.value))
                } else {
                    print("tenant \(tenant.name) (\(tenant.id)) on plan \(tenant.plan)")
                    print("API key (shown once, store it now): \(key.value)")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")

        @OptionGroup var common: CommonOptions
        @Flag(help: "Print one JSON object instead of text.") var json = false

        func run() async throws {
            try await runCommand {
                let configuration = try common.configuration()
                let logger = bootstrapLogging(level: configuration.logLevel, toStandardError: true)
                let tenants = try await withPreparedDatabase(configuration, logger: logger) { database in
                    try await TenantStore(database: database).listTenants(logger: logger)
                }
                if json {
                    try TenantCommand.printJSON(AdminRoutes.TenantList(tenants: tenants))
                } else {
                    for tenant in tenants {
                        print("\(tenant.id)  \(tenant.plan.padding(toLength: 10, withPad: " ", startingAt: 0))  \(tenant.name)")
                    }
                }
            }
        }
    }

    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key", abstract: "Revoke a tenant's keys and print a new one, once.")

        @OptionGroup var common: CommonOptions
        @Argument(help: "The tenant's id or name.") var tenant: String
        @Flag(help: "Print one JSON object instead of text.") var json = false

        func run() async throws {
            try await runCommand {
                let configuration = try common.configuration()
                let logger = bootstrapLogging(level: configuration.logLevel, toStandardError: true)
                let reference = tenant
                let (id, key) = try await withPreparedDatabase(configuration, logger: logger) { database in
                    let store = TenantStore(database: database)
                    guard let found = try await store.tenant(reference: reference, logger: logger) else {
                        throw CommandFailure(description: "no tenant has the id or name '\(reference)'")
                    }
                    return (found.id, try await store.rotateKey(tenant: found.id, logger: logger))
                }
                if json {
                    try TenantCommand.printJSON(AdminRoutes.RotatedKey(tenantID: id, apiKey: key.value))
                } else {
                    print("new API key for \(id) (shown once; the old keys no longer work): \(key.value)")
                }
            }
        }
    }

    struct SetPlan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-plan", abstract: "Move a tenant to another plan.")

        @OptionGroup var common: CommonOptions
        @Argument(help: "The tenant's id or name.") var tenant: String
        @Argument(help: "The plan.") var plan: String
        @Flag(help: "Print one JSON object instead of text.") var json = false

        func run() async throws {
            try await runCommand {
                let configuration = try common.configuration()
                let logger = bootstrapLogging(level: configuration.logLevel, toStandardError: true)
                let (reference, plan) = (tenant, plan)
                let updated = try await withPreparedDatabase(configuration, logger: logger) { database in
                    let store = TenantStore(database: database)
                    guard let found = try await store.tenant(reference: reference, logger: logger) else {
                        throw CommandFailure(description: "no tenant has the id or name '\(reference)'")
                    }
                    do {
                        return try await store.changePlan(tenant: found.id, plan: plan, logger: logger)
                    } catch { throw TenantCommand.failure(error) }
                }
                if json { try TenantCommand.printJSON(updated) } else { print("tenant \(updated.name) is now on plan \(updated.plan)") }
            }
        }
    }
}
