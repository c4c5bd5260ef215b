import Foundation
import Logging
import PostgresNIO

/// What each tenant, the platform overhead and idle cost over a period, from the ledger: the one
/// query behind `runway cost report` and the admin API's CSV export, so both give the same numbers.
struct CostReport: Codable, Sendable, Equatable {
    struct Line: Codable, Sendable, Equatable {
        /// `tenant`, `unauthenticated`, `overhead` or `idle`.
        var kind: String
        /// What an overhead line is made of (`admin`, `background`); nil on the other lines.
        var item: String? = nil
        var tenantID: UUID?
        /// Nil for a deleted tenant (its history stays).
        var tenantName: String?
        var plan: String?
        var requests: Int64
        var appCPUNanoseconds: Int64
        var databaseCPUNanoseconds: Int64
        var cpuNanoseconds: Int64
        var costMicros: Int64

        enum CodingKeys: String, CodingKey {
            case kind, item
            case tenantID = "tenant_id"
            case tenantName = "tenant_name"
            case plan, requests
            case appCPUNanoseconds = "app_cpu_ns"
            case databaseCPUNanoseconds = "db_cpu_ns"
            case cpuNanoseconds = "cpu_ns"
            case costMicros = "cost_micros"
        }

        /// Micro-dollars per 1,000 requests, to three decimals; nil without requests.
        var costPerThousandRequests: String? {
            guard requests > 0 else { return nil }
            let milli = (Int128(costMicros) * 1_000_000 + Int128(requests) / 2) / Int128(requests)  // µ$/1k × 1000
            return "\(milli / 1000).\(String(Int(milli % 1000)).leftPadded(to: 3))"
        }
    }

    var from: Date
    var to: Date
    var lines: [Line]
    /// False if some rows of the period could not meter database CPU.
    var databaseMetered: Bool

    enum CodingKeys: String, CodingKey {
        case from, to, lines
        case databaseMetered = "db_metered"
    }

    var totalMicros: Int64 { lines.reduce(0) { $0 + $1.costMicros } }

    /// The ledger's rows with `from ≤ interval start < to`, one line per tenant (largest cost
    /// first), then the unauthenticated requests, the overhead items, then idle.
    static func load(database: Database, from: Date, to: Date, logger: Logger) async throws -> CostReport {
        let rows = try await database.query(
            """
            SELECT l.kind, NULLIF(l.item, ''), NULLIF(l.tenant_id, '00000000-0000-0000-0000-000000000000'), t.name, t.plan,
                   sum(l.requests)::bigint, sum(l.app_cpu_ns)::bigint, sum(l.db_cpu_ns)::bigint, sum(l.cpu_ns)::bigint,
                   sum(l.cost_micros)::bigint, bool_and(l.db_metered)
            FROM cost_ledger l LEFT JOIN tenants t ON t.id = l.tenant_id
            WHERE l.interval_start >= \(from) AND l.interval_start < \(to)
            GROUP BY 1, 2, 3, 4, 5
            ORDER BY CASE l.kind WHEN 'tenant' THEN 0 WHEN 'unauthenticated' THEN 1 WHEN 'overhead' THEN 2 ELSE 3 END, 10 DESC, 3, 2
            """,
            logger: logger
        )
        var lines: [Line] = []
        var metered = true
        for row in rows {
            let (kind, item, tenant, name, plan, requests, app, db, cpu, cost, dbMetered) = try row.decode(
                (String, String?, UUID?, String?, String?, Int64, Int64, Int64, Int64, Int64, Bool).self
            )
            lines.append(
                Line(
                    kind: kind,
                    item: item,
                    tenantID: tenant,
                    tenantName: name,
                    plan: plan,
                    requests: requests,
                    appCPUNanoseconds: app,
                    databaseCPUNanoseconds: db,
                    cpuNanoseconds: cpu,
                    costMicros: cost
                )
            )
            metered = metered && dbMetered
        }
        return CostReport(from: from, to: to, lines: lines, databaseMetered: metered)
    }

    /// One tenant's requests, CPU and cost from `from` on.
    static func tenantTotals(database: Database, tenant: UUID, from: Date, logger: Logger) async throws -> Line {
        let rows = try await database.query(
            """
            SELECT coalesce(sum(requests), 0)::bigint, coalesce(sum(app_cpu_ns), 0)::bigint, coalesce(sum(db_cpu_ns), 0)::bigint,
                   coalesce(sum(cpu_ns), 0)::bigint, coalesce(sum(cost_micros), 0)::bigint
            FROM cost_ledger WHERE tenant_id = \(tenant) AND kind = 'tenant' AND interval_start >= \(from)
            """,
            logger: logger
        )
        var line = Line(
            kind: "tenant",
            tenantID: tenant,
            requests: 0,
            appCPUNanoseconds: 0,
            databaseCPUNanoseconds: 0,
            cpuNanoseconds: 0,
            costMicros: 0
        )
        for (requests, app, db, cpu, cost) in try rows.map({ try $0.decode((Int64, Int64, Int64, Int64, Int64).self) }) {
            (line.requests, line.appCPUNanoseconds, line.databaseCPUNanoseconds, line.cpuNanoseconds, line.costMicros) =
                (requests, app, db, cpu, cost)
        }
        return line
    }

    static let csvHeader =
        "kind,tenant_id,tenant_name,plan,requests,app_cpu_ns,db_cpu_ns,cpu_ns,cost_micros,cost_per_1k_requests_micros,item"

    /// RFC 4180 CSV, one line per row of the report and a `total` line.
    var csv: String {
        var text = Self.csvHeader + "\r\n"
        for line in lines {
            let fields = [
                line.kind, line.tenantID?.uuidString.lowercased() ?? "", line.tenantName ?? "", line.plan ?? "", "\(line.requests)",
                "\(line.appCPUNanoseconds)", "\(line.databaseCPUNanoseconds)", "\(line.cpuNanoseconds)", "\(line.costMicros)",
                line.costPerThousandRequests ?? "", line.item ?? "",
            ]
            text += fields.map(Self.csvField).joined(separator: ",") + "\r\n"
        }
        text += "total,,,,,,,,\(totalMicros),,\r\n"
        return text
    }

    /// Aligned columns for people; dollars to six decimals.
    var table: String {
        let header = ["KIND", "TENANT", "PLAN", "REQUESTS", "APP CPU s", "DB CPU s", "COST $", "$ / 1k REQ"]
        var rows = lines.map { line -> [String] in
            [
                line.item.map { "\(line.kind) (\($0))" } ?? line.kind, line.tenantName ?? line.tenantID?.uuidString.lowercased() ?? "-",
                line.plan ?? "-", "\(line.requests)",
                Self.seconds(line.appCPUNanoseconds), Self.seconds(line.databaseCPUNanoseconds), Self.dollars(line.costMicros),
                line.requests > 0 ? String(format: "%.6f", Double(line.costMicros) * 1000 / Double(line.requests) / 1e6) : "-",
            ]
        }
        rows.append(["total", "", "", "", "", "", Self.dollars(totalMicros), ""])
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func render(_ row: [String]) -> String {
            row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var text = "cost from \(Self.isoInstant(from)) to \(Self.isoInstant(to))"
        if !databaseMetered { text += " (database CPU not metered for some rows)" }
        return ([text, render(header)] + rows.map(render)).joined(separator: "\n") + "\n"
    }

    static func dollars(_ micros: Int64) -> String {
        "\(micros / 1_000_000).\(String(micros % 1_000_000).leftPadded(to: 6))"
    }

    static func seconds(_ nanoseconds: Int64) -> String { String(format: "%.3f", Double(nanoseconds) / 1e9) }

    /// One CSV field: quoted when it holds a comma, a quote or a line break. A field a spreadsheet
    /// would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return: a
    /// tenant's name, say) gets a leading apostrophe, so it stays text (OWASP's advice on CSV
    /// injection). The report's own numbers never start with one of those.
    static func csvField(_ field: String) -> String {
        var field = field
        if let first = field.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { field = "'" + field }
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func isoInstant(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// The first moment of the current UTC month.
    static func monthStart(of date: Date = Date()) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: calendar.dateComponents([.year, .month], from: date))!
    }

    /// `2026-11-01` (midnight UTC) or a full ISO 8601 instant.
    static func parseInstant(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        let parts = text.split(separator: "-")
        guard parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month, day: day)
        guard components.isValidDate(in: calendar) else { return nil }
        return calendar.date(from: components)
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}

extension CostReport {
    /// A period that `from`/`to` cannot make; ``describe(option:)`` names them as its caller does.
    struct InvalidPeriod: Error, Equatable {
        enum Reason: Equatable {
            case notADate(option: String, text: String)
            case notBefore
        }
        let reason: Reason

        func describe(option: (String) -> String) -> String {
            switch reason {
            case .notADate(let name, let text): "\(option(name)) \(text) is not a date (2026-11-01) or an ISO 8601 instant"
            case .notBefore: "\(option("from")) must be before \(option("to"))"
            }
        }
    }

    /// The period `from` (default: the start of this month) to `to` (default: now), each a date or
    /// an ISO 8601 instant: the rule of `runway cost report` and of the admin API's export.
    static func period(from: String?, to: String?, now: Date = Date()) throws -> (Date, Date) {
        func parse(_ text: String?, _ name: String, default fallback: Date) throws -> Date {
            guard let text else { return fallback }
            guard let date = parseInstant(text) else { throw InvalidPeriod(reason: .notADate(option: name, text: text)) }
            return date
        }
        let start = try parse(from, "from", default: monthStart(of: now))
        let end = try parse(to, "to", default: now)
        guard start < end else { throw InvalidPeriod(reason: .notBefore) }
        return (start, end)
    }
}
