import CostMeter
import Foundation
import Logging
import PostgresNIO

/// Writes cost ledger rows to `cost_ledger`, once each: the key is deterministic and a row
/// already there is skipped (`ON CONFLICT DO NOTHING`), so retries and replays never double-count.
struct PostgresLedgerStore: LedgerStore {
    static let noTenant = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    let database: Database
    let logger: Logger

    func write(_ rows: [LedgerRow]) async throws {
        guard !rows.isEmpty else { return }
        let instances = rows.map(\.instance)
        let boots = rows.map(\.boot)
        let starts = rows.map(\.intervalStart)
        let ends = rows.map(\.intervalEnd)
        let kinds = rows.map(\.kind.rawValue)
        let items = rows.map(\.item.rawValue)
        let tenants = rows.map { $0.tenant ?? Self.noTenant }
        let app = rows.map(\.appCPUNanoseconds)
        let db = rows.map(\.databaseCPUNanoseconds)
        let cpu = rows.map(\.cpuNanoseconds)
        let requests = rows.map(\.requests)
        let costs = rows.map(\.costMicros)
        let versions = rows.map(\.priceVersion)
        let types = rows.map(\.instanceType)
        let vcpus = rows.map { Int32($0.vcpus) }
        let metered = rows.map(\.databaseMetered)
        let over = rows.map(\.overCapacity)
        try await database.query(
            """
            INSERT INTO cost_ledger (instance, boot, start_ns, end_ns, interval_start, kind, tenant_id, app_cpu_ns, db_cpu_ns,
                                     cpu_ns, requests, cost_micros, price_version, instance_type, vcpus, db_metered, over_capacity, item)
            SELECT i, b, s, e, timestamptz 'epoch' + (s / 1000) * interval '1 microsecond', k, t, a, d, c, r, m, v, it, vc, dm, oc, n
            FROM unnest(\(instances)::text[], \(boots)::uuid[], \(starts)::bigint[], \(ends)::bigint[], \(kinds)::text[],
                        \(tenants)::uuid[], \(app)::bigint[], \(db)::bigint[], \(cpu)::bigint[], \(requests)::bigint[],
                        \(costs)::bigint[], \(versions)::text[], \(types)::text[], \(vcpus)::integer[], \(metered)::boolean[],
                        \(over)::boolean[], \(items)::text[])
                 AS x (i, b, s, e, k, t, a, d, c, r, m, v, it, vc, dm, oc, n)
            ON CONFLICT DO NOTHING
            """,
            logger: logger
        )
    }
}
