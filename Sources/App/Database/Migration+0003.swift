extension Migration {
    /// Finance views by instance and price: the cost dashboard filters by instance type, and
    /// shows which price version priced which minutes.
    static let costByInstance = Migration(
        version: 3,
        name: "cost by instance and price",
        statements: [
            // Per day (UTC) and instance: one row per tenant, plus one overhead and one idle row.
            #"""
            CREATE VIEW cost_daily_by_instance AS
            SELECT (l.interval_start AT TIME ZONE 'UTC')::date AS day, l.instance, l.instance_type, l.kind,
                   NULLIF(l.tenant_id, '00000000-0000-0000-0000-000000000000') AS tenant_id,
                   t.name AS tenant_name, t.plan,
                   sum(l.requests)::bigint AS requests, sum(l.app_cpu_ns)::bigint AS app_cpu_ns,
                   sum(l.db_cpu_ns)::bigint AS db_cpu_ns, sum(l.cpu_ns)::bigint AS cpu_ns,
                   sum(l.cost_micros)::bigint AS cost_micros,
                   CASE WHEN sum(l.requests) > 0
                        THEN round(sum(l.cost_micros) * 1000.0 / sum(l.requests), 3) END AS cost_per_1k_requests_micros
            FROM cost_ledger l LEFT JOIN tenants t ON t.id = l.tenant_id
            GROUP BY 1, 2, 3, 4, 5, 6, 7
            """#,
            // Each price version in use: the instance type and vCPUs it priced, and when.
            #"""
            CREATE VIEW cost_prices AS
            SELECT price_version, instance_type, vcpus,
                   min(interval_start) AS first_used, max(interval_start) AS last_used,
                   count(DISTINCT instance)::bigint AS instances, sum(cost_micros)::bigint AS cost_micros
            FROM cost_ledger
            GROUP BY 1, 2, 3
            """#,
            #"""
            GRANT SELECT ON cost_daily_by_instance, cost_prices TO runway_app, runway_finance
            """#,
        ]
    )
}
