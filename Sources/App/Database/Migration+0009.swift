extension Migration {
    /// The key of ``VersionCipher``: versions (and so ETags) no longer show the one sequence that
    /// every tenant's writes draw from. 244 random bits from `gen_random_uuid()` (PostgreSQL's
    /// strong random source), made once per database, so every instance shows the same versions.
    static let opaqueVersions = Migration(
        version: 9,
        name: "opaque document versions",
        statements: [
            #"""
            CREATE TABLE runway_version_key (
                only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                key bytea NOT NULL
            )
            """#,
            #"""
            INSERT INTO runway_version_key (key)
                VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'))
            """#,
            #"""
            GRANT SELECT ON runway_version_key TO runway_app
            """#,
        ]
    )
}
