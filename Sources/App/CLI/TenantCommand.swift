import ArgumentParser
import Foundation
import Logging

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant",
        abstract: "Create, list and re-key tenants.",
        subcommands: [Create.self, List.self, RotateKey.self, SetPlan.self]
    )

    /// JSON for `--json` output: sorted keys, ISO 8601 dates, one object per command.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Runs `body`, turning the store's failures into messages for the operator.
    static func explainingFailures<Value>(_ body: () async throws -> Value) async throws -> Value {
        do {
            return try await body()
        } catch TenantStore.Failure.duplicateName {
            throw CommandFailure(description: "a tenant of that name exists")
        } catch TenantStore.Failure.unknownPlan {
            throw CommandFailure(description: "no such plan (see runway's admin API, GET /admin/v1/plans)")
        } catch TenantStore.Failure.unknownTenant {
            throw CommandFailure(description: "no such tenant")
        }
    }

    /// The tenant whose id or name is `reference`.
    static func find(_ reference: String, in store: TenantStore, logger: Logger) async throws -> Tenant {
        guard let tenant = try await store.tenant(reference: reference, logger: logger) else {
            throw CommandFailure(description: "no tenant has the id or name '\(reference)'")
        }
        return tenant
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant and print its API key, once.")

        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant's name (unique).") var name: String
        @Option(help: "The tenant's plan.") var plan: String = "free"
        @Flag(help: "Print one JSON object instead of text.") var json = false

        func run() async throws {
            try await runCommand {
                let (name, plan) = (try TenantName.validate(name), plan)
                let (tenant, key) = try await common.withDatabase { database, logger in
                    try await explainingFailures {
                        try await TenantStore(database: database).createTenant(name: name, plan: plan, logger: logger)
                    }
                }
                if json {
                    try printJSON(AdminRoutes.CreatedTenant(tenant: tenant, apiKey: key.value))
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
                let tenants = try await common.withDatabase { database, logger in
                    try await TenantStore(database: database).listTenants(logger: logger)
                }
                if json {
                    try printJSON(AdminRoutes.TenantList(tenants: tenants))
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
            commandName: "rotate-key",
            abstract: "Revoke a tenant's keys and print a new one, once."
        )

        @OptionGroup var common: CommonOptions
        @Argument(help: "The tenant's id or name.") var tenant: String
        @Flag(help: "Print one JSON object instead of text.") var json = false

        func run() async throws {
            try await runCommand {
                let reference = tenant
                let (id, key) = try await common.withDatabase { database, logger in
                    let store = TenantStore(database: database)
                    let found = try await find(reference, in: store, logger: logger)
                    return (found.id, try await store.rotateKey(tenant: found.id, logger: logger))
                }
                if json {
                    try printJSON(AdminRoutes.RotatedKey(tenantID: id, apiKey: key.value))
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
                let (reference, plan) = (tenant, plan)
                let updated = try await common.withDatabase { database, logger in
                    let store = TenantStore(database: database)
                    let found = try await find(reference, in: store, logger: logger)
                    return try await explainingFailures { try await store.changePlan(tenant: found.id, plan: plan, logger: logger) }
                }
                if json {
                    try printJSON(updated)
                } else {
                    print("tenant \(updated.name) is now on plan \(updated.plan)")
                }
            }
        }
    }
}
