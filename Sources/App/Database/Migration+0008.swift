extension Migration {
    /// Usage flushes are applied once: each carries an id, recorded in the same transaction as its
    /// counts, so a flush retried after a COMMIT whose answer was lost is not added again.
    static let usageFlushIDs = Migration(
        version: 8,
        name: "usage flushes applied once",
        statements: [
            #"""
            CREATE TABLE usage_flushes (
                tenant_id uuid NOT NULL DEFAULT runway_current_tenant(),
                flush_id uuid NOT NULL,
                flushed_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (tenant_id, flush_id)
            )
            """#,
            #"""
            CREATE INDEX usage_flushes_by_age ON usage_flushes (tenant_id, flushed_at)
            """#,
            #"""
            ALTER TABLE usage_flushes ENABLE ROW LEVEL SECURITY
            """#,
            #"""
            ALTER TABLE usage_flushes FORCE ROW LEVEL SECURITY
            """#,
            #"""
            CREATE POLICY tenant_isolation ON usage_flushes
                USING (tenant_id = runway_current_tenant()) WITH CHECK (tenant_id = runway_current_tenant())
            """#,
            #"""
            GRANT SELECT, INSERT, DELETE ON usage_flushes TO runway_app
            """#,
        ]
    )
}
