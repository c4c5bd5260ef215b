import CostMeter
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import PostgresNIO
import Synchronization
@_spi(Benchmarks) import Telemetry
import TelemetryBootstrap
import Testing

@testable import App

@Suite struct CostLedgerTests {
    static let second: Int64 = 1_000_000_000

    /// A random whole hour between 2001 and 2020, so tests writing ledger rows stay apart.
    static func uniqueHour() -> Int64 {
        (978_307_200 + Int64.random(in: 0..<170_000) * 3_600) * second
    }

    static func date(_ nanoseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(nanoseconds) / 1e9) }

    /// `intervals` closed intervals of 10 s from `start`, with database CPU and requests for `tenants`.
    static func rows(instance: String, start: Int64, intervals: Int, tenants: [UUID], boot: UUID = UUID()) async throws -> [LedgerRow] {
        let clocks = ManualMeterClocks(wall: start)
        let meter = CostMeter(configuration: CostMeterConfiguration(instance: instance, boot: boot))
        let collector = LedgerCollector(meter: meter, clocks: clocks)
        var rows: [LedgerRow] = []
        for index in 0..<intervals {
            for (position, tenant) in tenants.enumerated() {
                meter.creditDatabase(tenant: tenant, nanoseconds: Int64(position + 1) * 1_000_000_007 + Int64(index))
                _ = try await meter.run(tenant: tenant) {}
            }
            clocks.advance(wall: 10 * second, processCPU: second / 3)
            rows += collector.collect()
        }
        return rows
    }

    static func store() async throws -> PostgresLedgerStore {
        PostgresLedgerStore(database: Database(client: try await TestDatabase.get().client), logger: TestDatabase.logger)
    }

    static func count(instance: String) async throws -> Int64 {
        let rows = try await TestDatabase.get().client.query(
            "SELECT count(*) FROM cost_ledger WHERE instance = \(instance)",
            logger: TestDatabase.logger
        )
        for try await count in rows.decode(Int64.self) { return count }
        return 0
    }

    @Test func anInstanceHourClosesToItsPriceToTheMicroDollar() async throws {
        let instance = "closure-\(UUID().uuidString.prefix(8))"
        let hour = Self.uniqueHour()
        let rows = try await Self.rows(instance: instance, start: hour, intervals: 360, tenants: [UUID(), UUID()])
        let store = try await Self.store()
        for chunk in stride(from: 0, to: rows.count, by: 500) { try await store.write(Array(rows[chunk..<min(chunk + 500, rows.count)])) }
        let result = try await TestDatabase.get().client.query(
            """
            SELECT tenant_micros + overhead_micros + idle_micros, instance_micros, metered_seconds::float8, gap_seconds::float8
            FROM cost_instance_hourly WHERE instance = \(instance)
            """,
            logger: TestDatabase.logger
        )
        var hours = 0
        for try await (sum, total, metered, gap) in result.decode((Int64, Int64, Double, Double).self) {
            hours += 1
            #expect(sum == 72_500 && total == 72_500)
            #expect(metered == 3_600 && gap == 0)
        }
        #expect(hours == 1)
    }

    @Test func aFlushWrittenTwiceOrReplayedAfterARestartIsStoredOnce() async throws {
        let instance = "replay-\(UUID().uuidString.prefix(8))"
        let hour = Self.uniqueHour()
        let rows = try await Self.rows(instance: instance, start: hour, intervals: 6, tenants: [UUID()])
        try await Self.store().write(rows)
        try await Self.store().write(rows)  // the retry after a lost answer
        #expect(try await Self.count(instance: instance) == Int64(rows.count))
        // A restart: a new client replays the same rows, and the new boot writes its own.
        let shared = try await TestDatabase.get()
        var endpoint = try TestDatabase.superuserEndpoint(database: shared.databaseName)
        endpoint.username = EmbeddedPostgres.appRole
        try await DatabaseBootstrap.withClient(endpoint, logger: TestDatabase.logger) { client in
            let restarted = PostgresLedgerStore(database: Database(client: client), logger: TestDatabase.logger)
            try await restarted.write(rows)
            let later = try await Self.rows(instance: instance, start: hour + 70 * Self.second, intervals: 1, tenants: [UUID()])
            try await restarted.write(later)
            #expect(try await Self.count(instance: instance) == Int64(rows.count + later.count))
        }
    }

    @Test func aMonthsDailyRowsAddUpToItsMonthlyRowExactly() async throws {
        let instance = "month-\(UUID().uuidString.prefix(8))"
        let hour = Self.uniqueHour()
        let tenant = UUID()
        let day: Int64 = 86_400 * Self.second
        var rows: [LedgerRow] = []
        for offset in 0..<3 {
            rows += try await Self.rows(instance: instance, start: hour + Int64(offset) * day, intervals: 3, tenants: [tenant])
        }
        try await Self.store().write(rows)
        let result = try await TestDatabase.get().client.query(
            """
            SELECT m.cost_micros, (SELECT sum(d.cost_micros)::bigint FROM cost_daily d
                                   WHERE d.tenant_id = m.tenant_id AND date_trunc('month', d.day)::date = m.month)
            FROM cost_monthly m WHERE m.tenant_id = \(tenant)
            """,
            logger: TestDatabase.logger
        )
        var months = 0
        for try await (monthly, daily) in result.decode((Int64, Int64).self) {
            months += 1
            #expect(monthly == daily)
        }
        #expect(months >= 1)
        #expect(rows.filter { $0.tenant == tenant }.reduce(0) { $0 + $1.databaseCPUNanoseconds } > 0)
    }

    @Test func theReportInThreeFormatsAndTheAdminExportGiveTheSameNumbers() async throws {
        let app = try await TestApp()
        let (first, _) = try await app.makeTenant(plan: "pro")
        let (second, _) = try await app.makeTenant(plan: "free")
        let hour = Self.uniqueHour()
        let rows = try await Self.rows(instance: "report", start: hour, intervals: 12, tenants: [first.id, second.id])
        try await Self.store().write(rows)
        let (from, to) = (Self.date(hour), Self.date(hour + 3_600 * Self.second))
        let report = try await CostReport.load(database: app.services.database, from: from, to: to, logger: TestDatabase.logger)

        #expect(report.lines.map(\.kind) == ["tenant", "tenant", "overhead", "idle"])
        #expect(report.lines[0].tenantName == second.name)  // twice the database CPU: the larger cost first
        #expect(report.totalMicros == rows.reduce(0) { $0 + $1.costMicros })
        #expect(report.lines.first { $0.tenantID == first.id }?.requests == 12)

        let csv = report.csv.split(separator: "\r\n").map(String.init)
        #expect(csv.first == CostReport.csvHeader)
        #expect(csv.count == 6)
        #expect(csv.last == "total,,,,,,,,\(report.totalMicros),,")
        let firstLine = try #require(report.lines.first { $0.tenantID == first.id })
        #expect(
            csv.contains(
                "tenant,\(first.id.uuidString.lowercased()),\(first.name),pro,12,\(firstLine.appCPUNanoseconds),\(firstLine.databaseCPUNanoseconds),"
                    + "\(firstLine.cpuNanoseconds),\(firstLine.costMicros),\(firstLine.costPerThousandRequests!),"
            )
        )
        let table = report.table
        #expect(table.contains(first.name) && table.contains(second.name) && table.contains("overhead") && table.contains("idle"))
        #expect(table.contains(CostReport.dollars(report.totalMicros)))
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        #expect(try decoder.decode(CostReport.self, from: try encoder.encode(report)) == report)

        let export = try await app.withAdminClient { client in
            try await client.send(
                .get,
                "/admin/v1/cost/export?from=\(CostReport.isoInstant(from))&to=\(CostReport.isoInstant(to))",
                key: TestApp.adminToken
            )
        }
        #expect(export.status == .ok)
        #expect(export.headers[.contentType] == "text/csv; charset=utf-8")
        #expect(export.text == report.csv)
        try await app.withAdminClient { client in
            try await client.send(.get, "/admin/v1/cost/export?from=yesterday", key: TestApp.adminToken).expectProblem(
                .badRequest,
                "invalid-period"
            )
        }
    }

    @Test func aDeletedTenantKeepsItsHistory() async throws {
        let app = try await TestApp()
        let (tenant, _) = try await app.makeTenant()
        let hour = Self.uniqueHour()
        try await Self.store().write(try await Self.rows(instance: "deleted", start: hour, intervals: 2, tenants: [tenant.id]))
        try await TestDatabase.get().superuser.query("DELETE FROM tenants WHERE id = \(tenant.id)", logger: TestDatabase.logger)
        let report = try await CostReport.load(
            database: app.services.database,
            from: Self.date(hour),
            to: Self.date(hour + 3_600 * Self.second),
            logger: TestDatabase.logger
        )
        let line = try #require(report.lines.first { $0.tenantID == tenant.id })
        #expect(line.tenantName == nil && line.costMicros > 0)
    }

    @Test func aRequestRunsOnItsTenantsMeterWhichSeesItsDatabaseCPU() async throws {
        let app = try await TestApp()
        let (tenant, key) = try await app.makeTenant()
        let statuses = try await app.withPublicClient { client in
            [
                try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"metered"}"#).status,
                try await client.send(.get, "/v1/collections", key: key).status,
            ]
        }
        #expect(statuses == [.created, .ok])
        let usage = try #require(app.services.meter.usageByTenant()[tenant.id])
        #expect(usage.requests == 2)
        #expect(usage.appCPUNanoseconds > 0)
        #expect(app.services.meter.databaseMetering.enabled, "\(app.services.meter.databaseMetering.reason)")
        #expect(usage.databaseCPUNanoseconds > 0)
    }

    @Test func theAccessLineCarriesTheRequestsCPUAndCost() async throws {
        let app = try await TestApp()
        let (_, key) = try await app.makeTenant()
        let output = JSONLineOutput(capturing: true)
        let logger = Logger(label: "runway") { JSONLogHandler(label: $0, level: .info, output: output) }
        try await app.publicApplication(logger: logger).test(.router) { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"costed"}"#)
            _ = try await client.send(.get, "/healthz", key: nil)
        }
        let lines = try output.captured.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]) }
        let created = try #require(lines.first { $0["msg"] == "request" && $0["method"] == "POST" })
        #expect(Int64(created["app_cpu_ns"] ?? "") ?? 0 > 0)
        #expect(Int64(created["db_cpu_ns"] ?? "") ?? 0 > 0)
        #expect(Double(created["cost_microusd"] ?? "") ?? 0 > 0)
        // A health probe is metered too, on the platform's bill.
        #expect(Int64(lines.first { $0["route"] == "/healthz" }?["app_cpu_ns"] ?? "") ?? 0 > 0)
    }

    @Test func usageShowsTheTenantItsCostThisMonth() async throws {
        let app = try await TestApp()
        let (tenant, key) = try await app.makeTenant()
        let now = Int64(Date().timeIntervalSince1970) * Self.second
        let start = max(Int64(CostReport.monthStart().timeIntervalSince1970) * Self.second, now - 3_600 * Self.second)
        let rows = try await Self.rows(instance: "usage-\(UUID().uuidString.prefix(8))", start: start, intervals: 3, tenants: [tenant.id])
        try await Self.store().write(rows)
        let mine = rows.filter { $0.tenant == tenant.id }
        let response = try await app.withPublicClient { client in try await client.send(.get, "/v1/usage", key: key) }
        let body = try response.object
        let cost = try #require(body["cost"] as? [String: Any])
        #expect((cost["cost_micros"] as? NSNumber)?.int64Value == mine.reduce(0) { $0 + $1.costMicros })
        #expect((cost["db_cpu_ns"] as? NSNumber)?.int64Value == mine.reduce(0) { $0 + $1.databaseCPUNanoseconds })
        #expect((cost["requests"] as? NSNumber)?.int64Value == 3)
        // The finance view of this month: cost so far, its projection, and the plan's margin.
        let month = try await TestDatabase.get().client.query(
            """
            SELECT cost_micros, projected_month_end_micros, plan_price_micros, projected_margin_micros
            FROM cost_month_to_date WHERE tenant_id = \(tenant.id)
            """,
            logger: TestDatabase.logger
        )
        var seen = 0
        for try await (costMicros, projected, planPrice, margin) in month.decode((Int64, Int64, Int64, Int64).self) {
            seen += 1
            #expect(costMicros == mine.reduce(0) { $0 + $1.costMicros })
            #expect(projected >= costMicros)
            #expect(planPrice == 499_000_000 && margin == planPrice - projected)
        }
        #expect(seen == 1)
    }
}

@Suite struct CostSettingsTests {
    @Test func theMetersSettingsComeFromTheEnvironment() throws {
        var configuration = RunwayConfiguration(environment: [:])
        try configuration.apply(environment: [
            "RUNWAY_INSTANCE_TYPE": "c8g.large", "RUNWAY_VCPUS": "4", "RUNWAY_COST_FLUSH_SECONDS": "5", "RUNWAY_INSTANCE": "web-1",
        ])
        let meter = try configuration.cost.meterConfiguration(instance: configuration.telemetry.instance)
        #expect(meter.instance == "web-1" && meter.flushInterval == .seconds(5))
        #expect(meter.price(at: CPUClock.wall())?.vcpus == 4)
        #expect(meter.price(at: CPUClock.wall())?.microsPerHour == 79_760)
        #expect(throws: ConfigurationError.self) { try configuration.apply(environment: ["RUNWAY_COST_FLUSH_SECONDS": "7"]) }
        configuration.cost.instanceType = "x9.huge"
        #expect(throws: ConfigurationError.self) { try configuration.cost.meterConfiguration(instance: "i") }
        configuration.cost.microsPerHour = 100_000
        configuration.cost.vcpus = 8
        #expect(try configuration.cost.meterConfiguration(instance: "i").price(at: CPUClock.wall())?.microsPerHour == 100_000)
    }

    /// Cells a spreadsheet would run as formulas stay text; separators and quotes are quoted.
    @Test(arguments: [
        ("acme", "acme"), ("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""), ("+1", "'+1"), ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("a,b", "\"a,b\""), ("0.000123", "0.000123"),
    ])
    func csvFieldsNeutraliseFormulasAndQuoteSeparators(field: String, expected: String) {
        #expect(CostReport.csvField(field) == expected)
    }
}
