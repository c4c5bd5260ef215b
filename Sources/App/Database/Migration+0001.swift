extension Migration {
    /// Plans, tenants, API keys; the tenant-owned tables behind row-level security.
    static let initialSchema = Migration(
        version: 1,
        name: "initial schema",
        statements: [
            #"""
            DO $$ BEGIN
                CREATE ROLE runway_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$
            """#,
            #"""
            CREATE FUNCTION runway_current_tenant() RETURNS uuid
                LANGUAGE sql STABLE PARALLEL SAFE
                AS $$ SELECT NULLIF(current_setting('runway.tenant_id', true), '')::uuid $$
            """#,
            #"""
            CREATE TABLE plans (
                name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
                monthly_price_micros bigint NOT NULL CHECK (monthly_price_micros >= 0),
                requests_per_second integer NOT NULL CHECK (requests_per_second > 0),
                burst integer NOT NULL CHECK (burst > 0),
                created_at timestamptz NOT NULL DEFAULT now()
            )
            """#,
            #"""
            INSERT INTO plans (name, monthly_price_micros, requests_per_second, burst) VALUES
                ('free', 0, 10, 20),
                ('pro', 49000000, 200, 400),
                ('enterprise', 499000000, 5000, 10000)
            """#,
            #"""
            CREATE TABLE tenants (
                id uuid PRIMARY KEY,
                name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
                plan text NOT NULL REFERENCES plans (name),
                created_at timestamptz NOT NULL DEFAULT now()
            )
            """#,
            #"""
            CREATE TABLE api_keys (
                key_id text PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
                secret_hash bytea NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                revoked_at timestamptz
            )
            """#,
            #"""
            CREATE INDEX api_keys_live_by_tenant ON api_keys (tenant_id) WHERE revoked_at IS NULL
            """#,
            #"""
            CREATE TABLE collections (
                tenant_id uuid NOT NULL DEFAULT runway_current_tenant() REFERENCES tenants (id) ON DELETE CASCADE,
                name text COLLATE "C" NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (tenant_id, name)
            )
            """#,
            #"""
            CREATE SEQUENCE document_versions
            """#,
            #"""
            CREATE TABLE documents (
                tenant_id uuid NOT NULL DEFAULT runway_current_tenant(),
                collection text COLLATE "C" NOT NULL,
                id text COLLATE "C" NOT NULL,
                version bigint NOT NULL DEFAULT nextval('document_versions'),
                body jsonb NOT NULL,
                search tsvector GENERATED ALWAYS AS (jsonb_to_tsvector('english'::regconfig, body, '["string"]')) STORED,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (tenant_id, collection, id),
                FOREIGN KEY (tenant_id, collection) REFERENCES collections (tenant_id, name) ON DELETE CASCADE
            )
            """#,
            #"""
            CREATE INDEX documents_body ON documents USING gin (body jsonb_path_ops)
            """#,
            #"""
            CREATE INDEX documents_search ON documents USING gin (search)
            """#,
            #"""
            CREATE TABLE usage_daily (
                tenant_id uuid NOT NULL DEFAULT runway_current_tenant() REFERENCES tenants (id) ON DELETE CASCADE,
                day date NOT NULL,
                requests bigint NOT NULL DEFAULT 0,
                client_errors bigint NOT NULL DEFAULT 0,
                server_errors bigint NOT NULL DEFAULT 0,
                rate_limited bigint NOT NULL DEFAULT 0,
                PRIMARY KEY (tenant_id, day)
            )
            """#,
            #"""
            ALTER TABLE collections ENABLE ROW LEVEL SECURITY
            """#,
            #"""
            ALTER TABLE collections FORCE ROW LEVEL SECURITY
            """#,
            #"""
            CREATE POLICY tenant_isolation ON collections
                USING (tenant_id = runway_current_tenant()) WITH CHECK (tenant_id = runway_current_tenant())
            """#,
            #"""
            ALTER TABLE documents ENABLE ROW LEVEL SECURITY
            """#,
            #"""
            ALTER TABLE documents FORCE ROW LEVEL SECURITY
            """#,
            #"""
            CREATE POLICY tenant_isolation ON documents
                USING (tenant_id = runway_current_tenant()) WITH CHECK (tenant_id = runway_current_tenant())
            """#,
            #"""
            ALTER TABLE usage_daily ENABLE ROW LEVEL SECURITY
            """#,
            #"""
            ALTER TABLE usage_daily FORCE ROW LEVEL SECURITY
            """#,
            #"""
            CREATE POLICY tenant_isolation ON usage_daily
                USING (tenant_id = runway_current_tenant()) WITH CHECK (tenant_id = runway_current_tenant())
            """#,
            #"""
            GRANT SELECT ON runway_schema_migrations TO runway_app
            """#,
            #"""
            GRANT SELECT, INSERT, UPDATE, DELETE ON plans, tenants, api_keys, collections, documents, usage_daily TO runway_app
            """#,
            #"""
            GRANT USAGE ON SEQUENCE document_versions TO runway_app
            """#,
            #"""
            GRANT EXECUTE ON FUNCTION runway_current_tenant() TO runway_app
            """#,
        ]
    )
}
