import Foundation

extension CostReport.Line {
    /// Micro-dollars per 1,000 requests, to three decimals; nil without requests.
    var costPerThousandRequests: String? {
        guard requests > 0 else { return nil }
        let milli = (Int128(costMicros) * 1_000_000 + Int128(requests) / 2) / Int128(requests)  // µ$/1k × 1000
        return "\(milli / 1000).\(String(Int(milli % 1000)).leftPadded(to: 3))"
    }
}

extension CostReport {
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
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
