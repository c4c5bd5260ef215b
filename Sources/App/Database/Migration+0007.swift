extension Migration {
    /// The serving role changes platform tables only through these functions, which run as the
    /// schema owner and do one thing each: it can no longer write `plans`, `tenants` or `api_keys`
    /// with statements of its own, nor read the keys' secret hashes except one key id's at a time.
    static let leastPrivilege = Migration(
        version: 7,
        name: "platform tables through narrow functions",
        statements: [
            #"""
            REVOKE INSERT, UPDATE, DELETE ON plans, tenants, api_keys FROM runway_app
            """#,
            #"""
            REVOKE SELECT ON api_keys FROM runway_app
            """#,
            // What a key id stands for: its secret's hash (compared by the caller in constant
            // time), its tenant and that tenant's plan. No row: no live key has that id.
            #"""
            CREATE FUNCTION runway_key_lookup(p_key_id text)
                RETURNS TABLE (secret_hash bytea, tenant_id uuid, plan text, requests_per_second integer, burst integer)
                LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
                AS $$
                    SELECT k.secret_hash, t.id, p.name, p.requests_per_second, p.burst
                    FROM public.api_keys k JOIN public.tenants t ON t.id = k.tenant_id JOIN public.plans p ON p.name = t.plan
                    WHERE k.key_id = p_key_id AND k.revoked_at IS NULL
                $$
            """#,
            // The live key ids of each tenant (for listings), without their hashes.
            #"""
            CREATE FUNCTION runway_live_key_ids(p_tenant uuid) RETURNS text[]
                LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
                AS $$
                    SELECT coalesce(array_agg(key_id ORDER BY created_at), '{}') FROM public.api_keys
                    WHERE tenant_id = p_tenant AND revoked_at IS NULL
                $$
            """#,
            // A tenant and its first key. A taken name fails as a unique violation (23505), an
            // unknown plan as a foreign key violation (23503), as the plain INSERTs did.
            #"""
            CREATE FUNCTION runway_create_tenant(p_id uuid, p_name text, p_plan text, p_key_id text, p_secret_hash bytea)
                RETURNS timestamptz
                LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
                AS $$
                DECLARE created timestamptz;
                BEGIN
                    INSERT INTO public.tenants (id, name, plan) VALUES (p_id, p_name, p_plan) RETURNING created_at INTO created;
                    INSERT INTO public.api_keys (key_id, tenant_id, secret_hash) VALUES (p_key_id, p_id, p_secret_hash);
                    RETURN created;
                END
                $$
            """#,
            // Revokes every live key of the tenant and adds one; false when there is no such tenant.
            #"""
            CREATE FUNCTION runway_rotate_key(p_tenant uuid, p_key_id text, p_secret_hash bytea) RETURNS boolean
                LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
                AS $$
                BEGIN
                    PERFORM 1 FROM public.tenants WHERE id = p_tenant FOR UPDATE;
                    IF NOT FOUND THEN
                        RETURN false;
                    END IF;
                    UPDATE public.api_keys SET revoked_at = now() WHERE tenant_id = p_tenant AND revoked_at IS NULL;
                    INSERT INTO public.api_keys (key_id, tenant_id, secret_hash) VALUES (p_key_id, p_tenant, p_secret_hash);
                    RETURN true;
                END
                $$
            """#,
            // Moves a tenant to a plan; false when there is no such tenant (23503: no such plan).
            #"""
            CREATE FUNCTION runway_set_tenant_plan(p_tenant uuid, p_plan text) RETURNS boolean
                LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
                AS $$
                BEGIN
                    UPDATE public.tenants SET plan = p_plan WHERE id = p_tenant;
                    RETURN FOUND;
                END
                $$
            """#,
            #"""
            CREATE FUNCTION runway_put_plan(p_name text, p_monthly_price_micros bigint, p_requests_per_second integer, p_burst integer)
                RETURNS void
                LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
                AS $$
                    INSERT INTO public.plans (name, monthly_price_micros, requests_per_second, burst)
                    VALUES (p_name, p_monthly_price_micros, p_requests_per_second, p_burst)
                    ON CONFLICT (name) DO UPDATE SET monthly_price_micros = EXCLUDED.monthly_price_micros,
                        requests_per_second = EXCLUDED.requests_per_second, burst = EXCLUDED.burst
                $$
            """#,
            #"""
            REVOKE ALL ON FUNCTION runway_key_lookup(text), runway_live_key_ids(uuid),
                runway_create_tenant(uuid, text, text, text, bytea), runway_rotate_key(uuid, text, bytea),
                runway_set_tenant_plan(uuid, text), runway_put_plan(text, bigint, integer, integer)
                FROM PUBLIC
            """#,
            #"""
            GRANT EXECUTE ON FUNCTION runway_key_lookup(text), runway_live_key_ids(uuid),
                runway_create_tenant(uuid, text, text, text, bytea), runway_rotate_key(uuid, text, bytea),
                runway_set_tenant_plan(uuid, text), runway_put_plan(text, bigint, integer, integer)
                TO runway_app
            """#,
        ]
    )
}
