extension Migration {
    /// Every CPU-second on somebody's bill: requests that named no tenant get rows of their own
    /// (`unauthenticated`), and overhead is itemised (`admin`: health probes, scrapes and the
    /// admin API; `background`: what no request caused). Earlier overhead rows become
    /// `background`: they mixed both, and nothing finer was measured then.
    static let costAttribution = Migration(
        version: 5,
        name: "cost attribution: unauthenticated rows, overhead items",
        statements: [
            #"""
            ALTER TABLE cost_ledger DROP CONSTRAINT cost_ledger_kind_check
            """#,
            #"""
            ALTER TABLE cost_ledger ADD CONSTRAINT cost_ledger_kind_check
                CHECK (kind IN ('tenant', 'unauthenticated', 'overhead', 'idle'))
            """#,
            #"""
            ALTER TABLE cost_ledger ADD COLUMN item text NOT NULL DEFAULT ''
            """#,
            #"""
            UPDATE cost_ledger SET item = 'background' WHERE kind = 'overhead'
            """#,
            #"""
            ALTER TABLE cost_ledger ADD CONSTRAINT cost_ledger_item_check CHECK ((kind = 'overhead') = (item <> ''))
            """#,
            #"""
            ALTER TABLE cost_ledger DROP CONSTRAINT cost_ledger_pkey,
                ADD PRIMARY KEY (instance, boot, start_ns, kind, tenant_id, item)
            """#,
            // Closure per instance and hour, now with the unauthenticated requests' share.
            #"""
            CREATE OR REPLACE VIEW cost_instance_hourly AS
            SELECT instance, date_trunc('hour', interval_start AT TIME ZONE 'UTC') AS hour_utc,
                   sum(cost_micros) FILTER (WHERE kind = 'tenant')::bigint AS tenant_micros,
                   sum(cost_micros) FILTER (WHERE kind = 'overhead')::bigint AS overhead_micros,
                   sum(cost_micros) FILTER (WHERE kind = 'idle')::bigint AS idle_micros,
                   sum(cost_micros)::bigint AS instance_micros,
                   (sum(end_ns - start_ns) FILTER (WHERE kind = 'idle') / 1e9)::numeric(12, 3) AS metered_seconds,
                   (3600 - sum(end_ns - start_ns) FILTER (WHERE kind = 'idle') / 1e9)::numeric(12, 3) AS gap_seconds,
                   bool_or(over_capacity) AS over_capacity,
                   coalesce(sum(cost_micros) FILTER (WHERE kind = 'unauthenticated'), 0)::bigint AS unauthenticated_micros
            FROM cost_ledger
            GROUP BY 1, 2
            """#,
        ]
    )
}
