extension Migration {
    /// A request's tenant is entered in the same round trip as its work: `runway_enter` checks the
    /// request's API key again inside the transaction (so a rotated key stops working at once on
    /// every instance, even one that cached it) and sets the tenant for row-level security; the
    /// document read and write are one function call each, so a GET or PUT is one round trip.
    static let oneRoundTrip = Migration(
        version: 4,
        name: "tenant entered in the same round trip",
        statements: [
            // The only way the serving role reads api_keys for a request: a live key's tenant.
            // PL/pgSQL, not SQL: a SQL function that cannot be inlined (this one runs as its owner)
            // is parsed and planned on every call; PL/pgSQL keeps its plan for the session.
            #"""
            CREATE FUNCTION runway_key_tenant(p_key_id text, p_secret_hash bytea) RETURNS uuid
                LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
                AS $$
                BEGIN
                    RETURN (SELECT tenant_id FROM public.api_keys
                            WHERE key_id = p_key_id AND secret_hash = p_secret_hash AND revoked_at IS NULL);
                END
                $$
            """#,
            #"""
            REVOKE ALL ON FUNCTION runway_key_tenant(text, bytea) FROM PUBLIC
            """#,
            // Sets the tenant for the rest of the transaction. With a key, only if the key is live
            // and belongs to the tenant; without one (the service's own background work), as given.
            // Returns whether it did.
            #"""
            CREATE FUNCTION runway_enter(p_tenant uuid, p_key_id text, p_secret_hash bytea) RETURNS boolean
                LANGUAGE plpgsql
                AS $$
                BEGIN
                    IF p_key_id IS NOT NULL AND runway_key_tenant(p_key_id, p_secret_hash) IS DISTINCT FROM p_tenant THEN
                        PERFORM set_config('runway.tenant_id', '', true);
                        RETURN false;
                    END IF;
                    PERFORM set_config('runway.tenant_id', p_tenant::text, true);
                    RETURN true;
                END
                $$
            """#,
            // When a document read or write found no row: 1 if the collection exists (no such
            // document, or its precondition failed), 2 if it does not.
            #"""
            CREATE FUNCTION runway_missing_outcome(p_collection text) RETURNS smallint
                LANGUAGE sql STABLE
                AS $$
                    SELECT CASE WHEN EXISTS (
                        SELECT 1 FROM collections c WHERE c.tenant_id = runway_current_tenant() AND c.name = p_collection
                    ) THEN 1 ELSE 2 END::smallint
                $$
            """#,
            // outcome: 0 found, 1 no such document, 2 no such collection, 3 key no longer valid.
            #"""
            CREATE FUNCTION runway_get_document(p_tenant uuid, p_key_id text, p_secret_hash bytea, p_collection text, p_id text)
                RETURNS TABLE (outcome smallint, doc_version bigint, doc_body jsonb)
                LANGUAGE plpgsql
                AS $$
                BEGIN
                    IF NOT runway_enter(p_tenant, p_key_id, p_secret_hash) THEN
                        RETURN QUERY SELECT 3::smallint, NULL::bigint, NULL::jsonb;
                        RETURN;
                    END IF;
                    RETURN QUERY SELECT 0::smallint, d.version, d.body FROM documents d
                        WHERE d.tenant_id = runway_current_tenant() AND d.collection = p_collection AND d.id = p_id;
                    IF NOT FOUND THEN
                        RETURN QUERY SELECT runway_missing_outcome(p_collection), NULL::bigint, NULL::jsonb;
                    END IF;
                END
                $$
            """#,
            // p_mode: 0 create or replace, 1 only if absent, 2 only if present (and, with
            // p_versions, only at one of those versions). outcome: 0 written, 1 precondition
            // failed, 2 no such collection, 3 key no longer valid. Inserting into a collection that
            // does not exist fails on the foreign key (SQLSTATE 23503), as a plain INSERT would.
            #"""
            CREATE FUNCTION runway_put_document(
                p_tenant uuid, p_key_id text, p_secret_hash bytea, p_collection text, p_id text, p_body jsonb,
                p_mode smallint, p_versions bigint[]
            ) RETURNS TABLE (outcome smallint, doc_version bigint, doc_created boolean)
                LANGUAGE plpgsql
                AS $$
                BEGIN
                    IF NOT runway_enter(p_tenant, p_key_id, p_secret_hash) THEN
                        RETURN QUERY SELECT 3::smallint, NULL::bigint, NULL::boolean;
                        RETURN;
                    END IF;
                    IF p_mode = 0 THEN
                        RETURN QUERY INSERT INTO documents AS d (collection, id, body) VALUES (p_collection, p_id, p_body)
                            ON CONFLICT (tenant_id, collection, id) DO UPDATE
                                SET body = EXCLUDED.body, version = nextval('document_versions'), updated_at = now()
                            RETURNING 0::smallint, d.version, d.xmax = 0;
                    ELSIF p_mode = 1 THEN
                        RETURN QUERY INSERT INTO documents AS d (collection, id, body) VALUES (p_collection, p_id, p_body)
                            ON CONFLICT (tenant_id, collection, id) DO NOTHING
                            RETURNING 0::smallint, d.version, true;
                    ELSE
                        RETURN QUERY UPDATE documents d SET body = p_body, version = nextval('document_versions'), updated_at = now()
                            WHERE d.tenant_id = runway_current_tenant() AND d.collection = p_collection AND d.id = p_id
                              AND (p_versions IS NULL OR d.version = ANY(p_versions))
                            RETURNING 0::smallint, d.version, false;
                    END IF;
                    IF NOT FOUND THEN
                        RETURN QUERY SELECT runway_missing_outcome(p_collection), NULL::bigint, NULL::boolean;
                    END IF;
                END
                $$
            """#,
            #"""
            GRANT EXECUTE ON FUNCTION runway_key_tenant(text, bytea), runway_enter(uuid, text, bytea), runway_missing_outcome(text),
                runway_get_document(uuid, text, bytea, text, text),
                runway_put_document(uuid, text, bytea, text, text, jsonb, smallint, bigint[])
                TO runway_app
            """#,
        ]
    )
}
