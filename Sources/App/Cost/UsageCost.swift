/// What `GET /v1/usage` shows of the tenant's cost this month (written up to the last flush).
struct UsageCost: Encodable, Sendable {
    var requests: Int64
    var appCPUNanoseconds: Int64
    var databaseCPUNanoseconds: Int64
    var costMicros: Int64

    init(_ line: CostReport.Line) {
        requests = line.requests
        appCPUNanoseconds = line.appCPUNanoseconds
        databaseCPUNanoseconds = line.databaseCPUNanoseconds
        costMicros = line.costMicros
    }

    enum CodingKeys: String, CodingKey {
        case requests
        case appCPUNanoseconds = "app_cpu_ns"
        case databaseCPUNanoseconds = "db_cpu_ns"
        case costMicros = "cost_micros"
    }
}
