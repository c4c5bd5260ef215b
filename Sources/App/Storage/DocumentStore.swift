import Foundation
import Logging
import NIOCore
import PostgresNIO

/// A stored document: its id, its version (the ETag) and its JSON text.
struct StoredDocument: Sendable {
    var id: String
    var version: Int64
    var body: ByteBuffer
}

/// What a write's preconditions (`If-Match`, `If-None-Match: *`) ask for.
enum WritePrecondition: Sendable, Equatable {
    /// No precondition: create or replace.
    case none
    /// Only if the document exists (`If-Match: *`).
    case exists
    /// Only if the current version is one of these (`If-Match: "7", "9"`).
    case versionIn([Int64])
    /// Only if the document does not exist (`If-None-Match: *`).
    case absent
}

/// Collections and documents of one tenant at a time. Every call runs in a transaction scoped to
/// the tenant; the SQL carries no tenant filter of its own beyond `runway_current_tenant()`, and
/// row-level security would hide other tenants' rows even if it did not.
///
/// Versions are shown as ``VersionCipher`` makes them: the store encodes those it returns and
/// decodes those it is given.
struct DocumentStore: Sendable {
    let database: Database
    let versionKey = VersionKey()

    private func cipher(_ logger: Logger) async throws -> VersionCipher {
        try await versionKey.cipher(database: database, logger: logger)
    }

    enum Failure: Error, Equatable {
        case collectionNotFound
        case collectionExists
        case documentNotFound
        case preconditionFailed
    }

    // MARK: Collections

    func createCollection(_ name: String, tenant: TenantScope, logger: Logger) async throws -> Date {
        do {
            return try await database.withTenant(tenant, .insert("collections"), logger: logger) { connection in
                let rows = try await connection.query(
                    "INSERT INTO collections (name) VALUES (\(name)) RETURNING created_at",
                    logger: logger
                )
                for try await date in rows.decode(Date.self) { return date }
                return Date()
            }
        } catch  where error.sqlState == SQLState.uniqueViolation {
            throw Failure.collectionExists
        }
    }

    func listCollections(tenant: TenantScope, logger: Logger) async throws -> [(name: String, createdAt: Date, documents: Int64)] {
        try await database.withTenant(tenant, .select("collections"), logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT c.name, c.created_at, (SELECT count(*) FROM documents d
                    WHERE d.tenant_id = c.tenant_id AND d.collection = c.name)
                FROM collections c WHERE c.tenant_id = runway_current_tenant() ORDER BY c.name
                """,
                logger: logger
            )
            var result: [(String, Date, Int64)] = []
            for try await row in rows.decode((String, Date, Int64).self) { result.append(row) }
            return result
        }
    }

    /// Deletes a collection and every document in it.
    func deleteCollection(_ name: String, tenant: TenantScope, logger: Logger) async throws {
        let deleted = try await database.withTenant(tenant, .delete("collections"), logger: logger) { connection in
            try await connection.query(
                "DELETE FROM collections WHERE tenant_id = runway_current_tenant() AND name = \(name) RETURNING name",
                logger: logger
            ).collect().count
        }
        guard deleted > 0 else { throw Failure.collectionNotFound }
    }

    // MARK: Documents

    /// One document: a single round trip (`runway_get_document` enters the tenant and reads).
    func document(_ id: String, in collection: String, tenant: TenantScope, logger: Logger) async throws -> StoredDocument {
        let rows = try await database.tenantStatement(
            Statements.GetDocument(scope: tenant, collection: collection, id: id),
            scope: tenant,
            .select("documents"),
            logger: logger
        )
        guard let (outcome, version, body) = rows.first else { throw Failure.documentNotFound }
        try Self.check(outcome, otherwise: .documentNotFound)
        guard let version, let body else { throw Failure.documentNotFound }
        return StoredDocument(id: id, version: try await cipher(logger).encode(version), body: JSONBBytes.text(of: body))
    }

    /// Writes a document under `precondition`; returns its new version and whether it was created.
    /// A single round trip (`runway_put_document` enters the tenant and writes).
    func put(
        _ id: String,
        in collection: String,
        body: ByteBuffer,
        precondition: WritePrecondition,
        tenant: TenantScope,
        logger: Logger
    ) async throws -> (version: Int64, created: Bool) {
        let (mode, versions): (Int16, [Int64]?) =
            switch precondition {
            case .none: (0, nil)
            case .absent: (1, nil)
            case .exists: (2, nil)
            case .versionIn(let list): (2, try await decode(list, logger))
            }
        let statement = Statements.PutDocument(
            scope: tenant,
            collection: collection,
            id: id,
            body: JSONBBytes(text: body),
            mode: mode,
            versions: versions,
            deadline: database.commitDeadline()
        )
        do {
            let rows = try await database.tenantStatement(statement, scope: tenant, .upsert("documents"), logger: logger)
            guard let (outcome, version, created) = rows.first else { throw Failure.preconditionFailed }
            try Self.check(outcome, otherwise: .preconditionFailed)
            guard let version, let created else { throw Failure.preconditionFailed }
            return (try await cipher(logger).encode(version), created)
        } catch  where error.sqlState == SQLState.foreignKeyViolation {
            throw Failure.collectionNotFound
        }
    }

    /// The internal versions of public ones (those no document can have are left out, so a
    /// precondition naming only them fails).
    private func decode(_ versions: [Int64], _ logger: Logger) async throws -> [Int64] {
        let cipher = try await cipher(logger)
        return versions.compactMap(cipher.decode)
    }

    /// Throws for a `runway_get_document` / `runway_put_document` outcome other than 0 (done):
    /// 1 is `otherwise` (no such document, or the precondition failed), 2 no such collection, 3 a
    /// key that is no longer valid.
    private static func check(_ outcome: Int16, otherwise: Failure) throws {
        switch outcome {
        case 0: return
        case 2: throw Failure.collectionNotFound
        case 3: throw TenantKeyNoLongerValid()
        default: throw otherwise
        }
    }

    /// Deletes a document, if its version matches when `versions` is given.
    func delete(_ id: String, in collection: String, versions publicVersions: [Int64]?, tenant: TenantScope, logger: Logger) async throws {
        let versions: [Int64]? = if let publicVersions { try await decode(publicVersions, logger) } else { nil }
        try await database.withTenant(tenant, .delete("documents"), logger: logger) { connection in
            let rows = try await connection.query(
                """
                WITH target AS (
                    SELECT version FROM documents
                    WHERE tenant_id = runway_current_tenant() AND collection = \(collection) AND id = \(id)
                ), deleted AS (
                    DELETE FROM documents
                    WHERE tenant_id = runway_current_tenant() AND collection = \(collection) AND id = \(id)
                      AND (\(versions)::bigint[] IS NULL OR version = ANY(\(versions)::bigint[]))
                    RETURNING version
                )
                SELECT (SELECT count(*) FROM target), (SELECT count(*) FROM deleted)
                """,
                logger: logger
            )
            for try await (existed, deleted) in rows.decode((Int64, Int64).self) {
                if deleted > 0 { return }
                if existed > 0 { throw Failure.preconditionFailed }
            }
            try await requireCollection(collection, on: connection, logger: logger)
            throw Failure.documentNotFound
        }
    }

    /// One page of a collection in id order, after `afterID`, optionally filtered by JSON
    /// containment: up to `limit` documents, fewer when the next would start past `maxBytes` of
    /// document text (the first always comes), and whether more follow.
    ///
    /// The cut is made by PostgreSQL from each document's stored size (`body_bytes`), so the
    /// documents left out are neither read from storage nor sent.
    func list(
        in collection: String,
        filter: ByteBuffer?,
        afterID: String?,
        limit: Int,
        maxBytes: Int,
        tenant: TenantScope,
        logger: Logger
    ) async throws -> (documents: [StoredDocument], hasMore: Bool) {
        let filterJSON = filter.map(JSONBBytes.init(text:))
        let cipher = try await cipher(logger)
        return try await database.withTenant(tenant, .select("documents"), logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT id, version, CASE WHEN included THEN body END, included FROM (
                    SELECT id, version, body,
                        coalesce(sum(body_bytes) OVER before, 0) < \(maxBytes) AND row_number() OVER (ORDER BY id) <= \(limit) AS included,
                        coalesce(sum(body_bytes) OVER before_previous, 0) < \(maxBytes) AS reached
                    FROM documents
                    WHERE tenant_id = runway_current_tenant() AND collection = \(collection)
                      AND (\(afterID)::text IS NULL OR id > \(afterID)::text)
                      AND (\(filterJSON)::jsonb IS NULL OR body @> \(filterJSON)::jsonb)
                    WINDOW before AS (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                        before_previous AS (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 2 PRECEDING)
                    ORDER BY id LIMIT \(limit + 1)
                ) page WHERE reached ORDER BY id
                """,
                logger: logger
            )
            return try await Self.page(of: rows) { id, version, body, _ in
                StoredDocument(id: id, version: cipher.encode(version), body: body)
            } onEmpty: {
                try await requireCollection(collection, on: connection, logger: logger)
            }
        }
    }

    /// Full-text search over the string values of a collection's documents, best match first:
    /// up to `limit` results, cut by bytes as ``list(in:filter:afterID:limit:maxBytes:tenant:logger:)``
    /// cuts a page; `truncated` when the cut left matches out.
    func search(
        in collection: String,
        query: String,
        limit: Int,
        maxBytes: Int,
        tenant: TenantScope,
        logger: Logger
    ) async throws -> (results: [(document: StoredDocument, rank: Float)], truncated: Bool) {
        let cipher = try await cipher(logger)
        return try await database.withTenant(tenant, .select("documents"), logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT id, version, CASE WHEN included THEN body END, included, rank FROM (
                    SELECT d.id, d.version, d.body, ts_rank_cd(d.search, q) AS rank,
                        coalesce(sum(d.body_bytes) OVER before, 0) < \(maxBytes) AND row_number() OVER ranked <= \(limit) AS included,
                        coalesce(sum(d.body_bytes) OVER before_previous, 0) < \(maxBytes) AS reached
                    FROM documents d, websearch_to_tsquery('english', \(query)) q
                    WHERE d.tenant_id = runway_current_tenant() AND d.collection = \(collection) AND d.search @@ q
                    WINDOW ranked AS (ORDER BY ts_rank_cd(d.search, q) DESC, d.id),
                        before AS (ranked ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                        before_previous AS (ranked ROWS BETWEEN UNBOUNDED PRECEDING AND 2 PRECEDING)
                    ORDER BY 4 DESC, d.id LIMIT \(limit + 1)
                ) page WHERE reached ORDER BY rank DESC, id
                """,
                logger: logger
            )
            let page = try await Self.page(of: rows) { id, version, body, rank in
                (document: StoredDocument(id: id, version: cipher.encode(version), body: body), rank: rank ?? 0)
            } onEmpty: {
                try await requireCollection(collection, on: connection, logger: logger)
            }
            return (page.documents, page.hasMore)
        }
    }

    /// The included rows of a page query (`id, version, body-or-null, included[, rank]`), and
    /// whether a row was left out (by the limit or by bytes).
    private static func page<Entry>(
        of rows: PostgresRowSequence,
        _ entry: (String, Int64, ByteBuffer, Float?) -> Entry,
        onEmpty: () async throws -> Void
    ) async throws -> (documents: [Entry], hasMore: Bool) {
        var entries: [Entry] = []
        var hasMore = false
        for try await row in rows {
            let columns = row.makeRandomAccess()
            guard try columns[3].decode(Bool.self), let body = try columns[2].decode(ByteBuffer?.self) else {
                hasMore = true
                continue
            }
            let rank = columns.count > 4 ? try columns[4].decode(Float.self) : nil
            entries.append(entry(try columns[0].decode(String.self), try columns[1].decode(Int64.self), JSONBBytes.text(of: body), rank))
        }
        if entries.isEmpty { try await onEmpty() }
        return (entries, hasMore)
    }

    private func requireCollection(_ name: String, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(
            "SELECT 1 FROM collections WHERE tenant_id = runway_current_tenant() AND name = \(name)",
            logger: logger
        )
        for try await _ in rows { return }
        throw Failure.collectionNotFound
    }
}
