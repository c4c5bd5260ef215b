import Foundation

extension CostReport {
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
