/// What the ledger has priced since the process started, by kind — the figures for Prometheus
/// (cost and CPU by kind; never one series per tenant).
package struct CostTotals: Sendable, Equatable {
    /// Micro-dollars by kind.
    package var tenantCostMicros: Int64 = 0
    package var unauthenticatedCostMicros: Int64 = 0
    package var overheadCostMicros: Int64 = 0
    package var idleCostMicros: Int64 = 0
    /// Nanoseconds by kind: tenants' app CPU, tenants' database CPU, platform overhead, idle.
    package var tenantAppCPUNanoseconds: Int64 = 0
    package var tenantDatabaseCPUNanoseconds: Int64 = 0
    package var unauthenticatedCPUNanoseconds: Int64 = 0
    package var overheadCPUNanoseconds: Int64 = 0
    package var idleCPUNanoseconds: Int64 = 0
    /// Requests counted into the ledger.
    package var requests: Int64 = 0
    /// Whether database CPU is being metered.
    package var databaseMetered = false

    package init() {}

    /// Cost in micro-dollars by kind label (`tenant`, `unauthenticated`, `overhead`, `idle`).
    package var costMicrosByKind: [String: Int64] {
        [
            "tenant": tenantCostMicros, "unauthenticated": unauthenticatedCostMicros, "overhead": overheadCostMicros,
            "idle": idleCostMicros,
        ]
    }

    /// CPU seconds by kind label (`tenant_app`, `tenant_db`, `unauthenticated`, `overhead`, `idle`).
    package var cpuSecondsByKind: [String: Double] {
        [
            "tenant_app": Double(tenantAppCPUNanoseconds) / 1e9, "tenant_db": Double(tenantDatabaseCPUNanoseconds) / 1e9,
            "unauthenticated": Double(unauthenticatedCPUNanoseconds) / 1e9, "overhead": Double(overheadCPUNanoseconds) / 1e9,
            "idle": Double(idleCPUNanoseconds) / 1e9,
        ]
    }

    mutating func add(_ row: LedgerRow) {
        switch row.kind {
        case .tenant:
            tenantCostMicros += row.costMicros
            tenantAppCPUNanoseconds += row.appCPUNanoseconds
            tenantDatabaseCPUNanoseconds += row.databaseCPUNanoseconds
            requests += row.requests
        case .unauthenticated:
            unauthenticatedCostMicros += row.costMicros
            unauthenticatedCPUNanoseconds += row.cpuNanoseconds
        case .overhead:
            overheadCostMicros += row.costMicros
            overheadCPUNanoseconds += row.cpuNanoseconds
        default:
            idleCostMicros += row.costMicros
            idleCPUNanoseconds += row.cpuNanoseconds
        }
    }
}
