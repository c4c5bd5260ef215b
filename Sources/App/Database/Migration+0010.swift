extension Migration {
    /// A write commits only before its request's deadline: a tenant transaction carries the moment
    /// the service will give up on it (`runway.deadline`, milliseconds since 1970, set with the
    /// tenant), and a deferred constraint trigger on the tenant tables refuses the COMMIT past it
    /// (57014, as a statement timeout). A database that was frozen with a write queued, and
    /// resumes after the client got its 503, rolls that write back instead of committing it.
    static let commitDeadline = Migration(
        version: 10,
        name: "writes commit only before their deadline",
        statements: [
            #"""
            CREATE FUNCTION runway_commit_deadline() RETURNS trigger
                LANGUAGE plpgsql
                AS $$
                DECLARE
                    deadline text := current_setting('runway.deadline', true);
                BEGIN
                    IF deadline IS NOT NULL AND deadline <> ''
                        AND extract(epoch FROM clock_timestamp()) * 1000 > deadline::numeric THEN
                        RAISE EXCEPTION 'the request gave up on this transaction before its commit' USING ERRCODE = '57014';
                    END IF;
                    RETURN NULL;
                END
                $$
            """#,
            #"""
            CREATE CONSTRAINT TRIGGER commit_deadline AFTER INSERT OR UPDATE OR DELETE ON documents
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION runway_commit_deadline()
            """#,
            #"""
            CREATE CONSTRAINT TRIGGER commit_deadline AFTER INSERT OR UPDATE OR DELETE ON collections
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION runway_commit_deadline()
            """#,
            #"""
            CREATE CONSTRAINT TRIGGER commit_deadline AFTER INSERT OR UPDATE OR DELETE ON usage_daily
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION runway_commit_deadline()
            """#,
        ]
    )
}
