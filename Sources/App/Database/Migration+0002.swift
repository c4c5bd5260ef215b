extension Migration {
    /// The cost ledger (issue 5) and the finance views over it.
    ///
    /// `cost_ledger` holds one row per (instance, boot, interval, kind, tenant): the CostMeter
    /// closes an interval every flush interval and never lets one cross a minute. The key is
    /// deterministic and writes use `ON CONFLICT DO NOTHING`, so a retried or replayed batch is
    /// stored once. Tenants have no foreign key here: a deleted tenant keeps its history.
    /// For every instance and hour, the rows' `cost_micros` add up to the instance's price for the
    /// metered part of the hour, to the micro-dollar; unmetered time (a crash) is a visible gap.
    static let costLedger = Migration(
        version: 2,
        name: "cost ledger",
        statements: [
            #"""
            DO $$ BEGIN
                CREATE ROLE runway_finance NOLOGIN NOSUPERUSER NOBYPASSRLS;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$
            """#,
            #"""
            CREATE TABLE cost_ledger (
                instance text NOT NULL,
                boot uuid NOT NULL,
                start_ns bigint NOT NULL,
                end_ns bigint NOT NULL CHECK (end_ns > start_ns),
                interval_start timestamptz NOT NULL,
                kind text NOT NULL CHECK (kind IN ('tenant', 'overhead', 'idle')),
                tenant_id uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
                app_cpu_ns bigint NOT NULL CHECK (app_cpu_ns >= 0),
                db_cpu_ns bigint NOT NULL CHECK (db_cpu_ns >= 0),
                cpu_ns bigint NOT NULL CHECK (cpu_ns >= 0),
                requests bigint NOT NULL CHECK (requests >= 0),
                cost_micros bigint NOT NULL CHECK (cost_micros >= 0),
                price_version text NOT NULL,
                instance_type text NOT NULL,
                vcpus integer NOT NULL CHECK (vcpus > 0),
                db_metered boolean NOT NULL,
                over_capacity boolean NOT NULL DEFAULT false,
                written_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (instance, boot, start_ns, kind, tenant_id),
                CHECK ((kind = 'tenant') = (tenant_id <> '00000000-0000-0000-0000-000000000000'))
            )
            """#,
            #"""
            CREATE INDEX cost_ledger_by_time ON cost_ledger (interval_start)
            """#,
            #"""
            CREATE INDEX cost_ledger_by_tenant ON cost_ledger (tenant_id, interval_start)
            """#,
            // Minute buckets per (instance, boot, tenant); tenant_id is NULL on overhead and idle rows.
            #"""
            CREATE VIEW cost_minutes AS
            SELECT instance, boot, date_trunc('minute', interval_start) AS minute, kind,
                   NULLIF(tenant_id, '00000000-0000-0000-0000-000000000000') AS tenant_id,
                   sum(app_cpu_ns)::bigint AS app_cpu_ns, sum(db_cpu_ns)::bigint AS db_cpu_ns,
                   sum(cpu_ns)::bigint AS cpu_ns, sum(requests)::bigint AS requests,
                   sum(cost_micros)::bigint AS cost_micros, bool_and(db_metered) AS db_metered
            FROM cost_ledger
            GROUP BY 1, 2, 3, 4, 5
            """#,
            // Closure per instance and hour: tenants + overhead + idle = the instance's cost of the
            // metered seconds; gap_seconds is time no row covers (the process was down or crashed).
            #"""
            CREATE VIEW cost_instance_hourly AS
            SELECT instance, date_trunc('hour', interval_start AT TIME ZONE 'UTC') AS hour_utc,
                   sum(cost_micros) FILTER (WHERE kind = 'tenant')::bigint AS tenant_micros,
                   sum(cost_micros) FILTER (WHERE kind = 'overhead')::bigint AS overhead_micros,
                   sum(cost_micros) FILTER (WHERE kind = 'idle')::bigint AS idle_micros,
                   sum(cost_micros)::bigint AS instance_micros,
                   (sum(end_ns - start_ns) FILTER (WHERE kind = 'idle') / 1e9)::numeric(12, 3) AS metered_seconds,
                   (3600 - sum(end_ns - start_ns) FILTER (WHERE kind = 'idle') / 1e9)::numeric(12, 3) AS gap_seconds,
                   bool_or(over_capacity) AS over_capacity
            FROM cost_ledger
            GROUP BY 1, 2
            """#,
            // Per day (UTC): one row per tenant, plus one overhead and one idle row.
            #"""
            CREATE VIEW cost_daily AS
            SELECT (l.interval_start AT TIME ZONE 'UTC')::date AS day, l.kind,
                   NULLIF(l.tenant_id, '00000000-0000-0000-0000-000000000000') AS tenant_id,
                   t.name AS tenant_name, t.plan,
                   sum(l.requests)::bigint AS requests, sum(l.app_cpu_ns)::bigint AS app_cpu_ns,
                   sum(l.db_cpu_ns)::bigint AS db_cpu_ns, sum(l.cpu_ns)::bigint AS cpu_ns,
                   sum(l.cost_micros)::bigint AS cost_micros,
                   CASE WHEN sum(l.requests) > 0
                        THEN round(sum(l.cost_micros) * 1000.0 / sum(l.requests), 3) END AS cost_per_1k_requests_micros
            FROM cost_ledger l LEFT JOIN tenants t ON t.id = l.tenant_id
            GROUP BY 1, 2, 3, 4, 5
            """#,
            // Per month (UTC), with the margin of each tenant's plan price over its cost.
            #"""
            CREATE VIEW cost_monthly AS
            SELECT date_trunc('month', d.day)::date AS month, d.kind, d.tenant_id, d.tenant_name, d.plan,
                   sum(d.requests)::bigint AS requests, sum(d.app_cpu_ns)::bigint AS app_cpu_ns,
                   sum(d.db_cpu_ns)::bigint AS db_cpu_ns, sum(d.cpu_ns)::bigint AS cpu_ns,
                   sum(d.cost_micros)::bigint AS cost_micros,
                   CASE WHEN sum(d.requests) > 0
                        THEN round(sum(d.cost_micros) * 1000.0 / sum(d.requests), 3) END AS cost_per_1k_requests_micros,
                   p.monthly_price_micros AS plan_price_micros,
                   (p.monthly_price_micros - sum(d.cost_micros))::bigint AS margin_micros
            FROM cost_daily d LEFT JOIN plans p ON p.name = d.plan
            GROUP BY 1, 2, 3, 4, 5, p.monthly_price_micros
            """#,
            // The current month so far, and its straight-line projection to month end.
            #"""
            CREATE VIEW cost_month_to_date AS
            WITH span AS (
                SELECT date_trunc('month', now() AT TIME ZONE 'UTC') AS month_start,
                       date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month' AS month_end,
                       now() AT TIME ZONE 'UTC' AS now_utc
            )
            SELECT m.month, m.kind, m.tenant_id, m.tenant_name, m.plan, m.requests, m.app_cpu_ns, m.db_cpu_ns,
                   m.cpu_ns, m.cost_micros, m.cost_per_1k_requests_micros,
                   round(m.cost_micros * extract(epoch FROM s.month_end - s.month_start)
                         / greatest(extract(epoch FROM s.now_utc - s.month_start), 1))::bigint AS projected_month_end_micros,
                   m.plan_price_micros,
                   (m.plan_price_micros - round(m.cost_micros * extract(epoch FROM s.month_end - s.month_start)
                         / greatest(extract(epoch FROM s.now_utc - s.month_start), 1)))::bigint AS projected_margin_micros
            FROM cost_monthly m, span s
            WHERE m.month = s.month_start::date
            """#,
            #"""
            GRANT SELECT, INSERT ON cost_ledger TO runway_app
            """#,
            #"""
            GRANT SELECT ON cost_minutes, cost_instance_hourly, cost_daily, cost_monthly, cost_month_to_date TO runway_app, runway_finance
            """#,
        ]
    )
}
