import Foundation
import Logging
import PostgresNIO

extension CostReport {
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
}
