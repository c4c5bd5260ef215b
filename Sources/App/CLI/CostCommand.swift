import ArgumentParser
import Foundation

/// `runway cost report`: what each tenant, the overhead and idle cost, from the ledger.
struct CostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "Report what tenants cost (CPU in the app and the database, priced per instance).",
        subcommands: [Report.self]
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cost per tenant, overhead and idle over a period (default: this UTC month so far)."
        )

        @OptionGroup var common: CommonOptions
        @Option(help: "Start, inclusive: 2026-11-01 (UTC midnight) or an ISO 8601 instant. Default: the month's start.")
        var from: String?
        @Option(help: "End, exclusive, same forms. Default: now.") var to: String?
        @Option(help: "table, csv or json.") var format: Format = .table

        func run() async throws {
            try await runCommand {
                let (start, end): (Date, Date)
                do {
                    (start, end) = try CostReport.period(from: from, to: to)
                } catch let error as CostReport.InvalidPeriod {
                    throw ConfigurationError(description: error.describe(option: { "--\($0)" }))
                }
                let report = try await common.withDatabase { database, logger in
                    try await CostReport.load(database: database, from: start, to: end, logger: logger)
                }
                switch format {
                case .table: print(report.table, terminator: "")
                case .csv: print(report.csv, terminator: "")
                case .json: try TenantCommand.printJSON(report)
                }
            }
        }
    }
}
