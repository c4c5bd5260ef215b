import Foundation

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
}
