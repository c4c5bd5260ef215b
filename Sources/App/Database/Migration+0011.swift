extension Migration {
    /// What the platform's overhead is made of, per day (UTC), instance and item (`admin`,
    /// `telemetry`, `flushes`, `autovacuum`, `checkpoints`, `wal_writer`, `background`): the
    /// finance dashboard's "Overhead by item".
    static let overheadByItem = Migration(
        version: 11,
        name: "overhead by item",
        statements: [
            #"""
            CREATE VIEW cost_overhead_daily AS
            SELECT (interval_start AT TIME ZONE 'UTC')::date AS day, instance, instance_type, item,
                   sum(app_cpu_ns)::bigint AS app_cpu_ns, sum(db_cpu_ns)::bigint AS db_cpu_ns,
                   sum(cpu_ns)::bigint AS cpu_ns, sum(cost_micros)::bigint AS cost_micros
            FROM cost_ledger
            WHERE kind = 'overhead'
            GROUP BY 1, 2, 3, 4
            """#,
            #"""
            GRANT SELECT ON cost_overhead_daily TO runway_app, runway_finance
            """#,
        ]
    )
}
