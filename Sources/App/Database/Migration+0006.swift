extension Migration {
    /// Each document's size as the API returns it (its JSON text in bytes), computed once when it
    /// is written, so a page of a listing or a search can be cut by bytes without reading the
    /// bodies it leaves out.
    static let documentSizes = Migration(
        version: 6,
        name: "document sizes, for pages bounded by bytes",
        statements: [
            #"""
            ALTER TABLE documents ADD COLUMN body_bytes integer GENERATED ALWAYS AS (octet_length(body::text)) STORED
            """#
        ]
    )
}
