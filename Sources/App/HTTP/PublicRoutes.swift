import Foundation
import Hummingbird
import NIOCore
import Telemetry

/// The tenant API under `/v1`: collections, documents, search, usage.
struct PublicRoutes: Sendable {
    let documents: DocumentStore
    let usage: UsageRecorder
    let maxDocumentBytes: Int
    /// The most document text a page of a listing or a search holds (``DocumentStore/list(in:filter:afterID:limit:maxBytes:tenant:logger:)``).
    let maxPageBytes: Int

    static let defaultLimit = 100
    static let maximumLimit = 1000

    func add(to group: RouterGroup<AppRequestContext>) {
        group.get("collections", use: listCollections)
        group.post("collections", use: createCollection)
        group.delete("collections/{collection}", use: deleteCollection)
        group.get("collections/{collection}/documents", use: listDocuments)
        group.post("collections/{collection}/documents", use: createDocument)
        group.get("collections/{collection}/documents/{id}", use: getDocument)
        group.put("collections/{collection}/documents/{id}", use: putDocument)
        group.delete("collections/{collection}/documents/{id}", use: deleteDocument)
        group.get("collections/{collection}/search", use: search)
        group.get("usage", use: showUsage)
    }

    // MARK: Collections

    @Sendable func listCollections(_ request: Request, context: AppRequestContext) async throws -> CollectionList {
        let tenant = try context.requireTenant
        let rows = try await documents.listCollections(tenant: tenant.scope, logger: context.logger)
        return CollectionList(collections: rows.map { CollectionInfo(name: $0.name, createdAt: $0.createdAt, documents: $0.documents) })
    }

    @Sendable func createCollection(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<CollectionInfo> {
        let tenant = try context.requireTenant
        struct Input: Decodable { var name: String }
        var request = request
        let input = try decodeFields(Input.self, from: try await request.jsonObjectBody(limit: 64 << 10))
        let name = try Name.collection(input.name)
        let createdAt = try await documents.createCollection(name, tenant: tenant.scope, logger: context.logger)
        return EditedResponse(
            status: .created,
            headers: [.location: "/v1/collections/\(name)"],
            response: CollectionInfo(name: name, createdAt: createdAt, documents: 0)
        )
    }

    @Sendable func deleteCollection(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let tenant = try context.requireTenant
        let name = try Name.collection(try context.pathParameter("collection"))
        try await documents.deleteCollection(name, tenant: tenant.scope, logger: context.logger)
        return .noContent
    }

    // MARK: Documents

    @Sendable func createDocument(_ request: Request, context: AppRequestContext) async throws -> Response {
        let tenant = try context.requireTenant
        let collection = try Name.collection(try context.pathParameter("collection"))
        var request = request
        let body = try await request.jsonObjectBody(limit: maxDocumentBytes)
        let id = makeDocumentID()
        let written = try await documents.put(
            id,
            in: collection,
            body: body,
            precondition: .absent,
            tenant: tenant.scope,
            logger: context.logger
        )
        return try writtenResponse(id: id, version: written.version, status: .created, collection: collection, context: context)
    }

    @Sendable func putDocument(_ request: Request, context: AppRequestContext) async throws -> Response {
        let tenant = try context.requireTenant
        let collection = try Name.collection(try context.pathParameter("collection"))
        let id = try Name.document(try context.pathParameter("id"))
        var precondition = WritePrecondition.none
        if let ifMatch = request.headers[.ifMatch] {
            let parsed = EntityTag.parse(ifMatch)
            precondition = parsed.any ? .exists : .versionIn(parsed.versions)
        } else if let ifNoneMatch = request.headers[.ifNoneMatch] {
            guard EntityTag.parse(ifNoneMatch).any else {
                throw Problem.badRequest("invalid-precondition", "on PUT, If-None-Match may only be *")
            }
            precondition = .absent
        }
        var request = request
        let body = try await request.jsonObjectBody(limit: maxDocumentBytes)
        let result = try await documents.put(
            id,
            in: collection,
            body: body,
            precondition: precondition,
            tenant: tenant.scope,
            logger: context.logger
        )
        return try writtenResponse(
            id: id,
            version: result.version,
            status: result.created ? .created : .ok,
            collection: collection,
            context: context
        )
    }

    private func writtenResponse(
        id: String,
        version: Int64,
        status: HTTPResponse.Status,
        collection: String,
        context: AppRequestContext
    ) throws
        -> Response
    {
        var headers: HTTPFields = [.eTag: EntityTag.make(version)]
        if status == .created { headers[.location] = "/v1/collections/\(collection)/documents/\(id)" }
        var body = ByteBuffer()
        body.writeString(#"{"id":"#)
        body.writeJSONString(id)
        body.writeString(#","version":\#(version)}"#)
        return .json(body, status: status, headers: headers)
    }

    @Sendable func getDocument(_ request: Request, context: AppRequestContext) async throws -> Response {
        let tenant = try context.requireTenant
        let collection = try Name.collection(try context.pathParameter("collection"))
        let id = try Name.document(try context.pathParameter("id"))
        let document = try await documents.document(id, in: collection, tenant: tenant.scope, logger: context.logger)
        let etag = EntityTag.make(document.version)
        if let ifNoneMatch = request.headers[.ifNoneMatch] {
            let parsed = EntityTag.parse(ifNoneMatch)
            if parsed.any || parsed.versions.contains(document.version) {
                return Response(status: .notModified, headers: [.eTag: etag])
            }
        }
        return .json(document.body, headers: [.eTag: etag])
    }

    @Sendable func deleteDocument(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let tenant = try context.requireTenant
        let collection = try Name.collection(try context.pathParameter("collection"))
        let id = try Name.document(try context.pathParameter("id"))
        var versions: [Int64]? = nil
        if let ifMatch = request.headers[.ifMatch] {
            let parsed = EntityTag.parse(ifMatch)
            if !parsed.any { versions = parsed.versions }
        }
        try await documents.delete(id, in: collection, versions: versions, tenant: tenant.scope, logger: context.logger)
        return .noContent
    }

    @Sendable func listDocuments(_ request: Request, context: AppRequestContext) async throws -> Response {
        let tenant = try context.requireTenant
        let collection = try Name.collection(try context.pathParameter("collection"))
        let limit = try limitParameter(request)
        let filterText = request.query("filter")
        var filter: ByteBuffer? = nil
        if let filterText {
            let buffer = ByteBuffer(string: filterText)
            do {
                guard try JSONValidator.validate(Array(filterText.utf8)) == .object else {
                    throw Problem.badRequest("invalid-filter", "filter must be a JSON object, such as {\"status\":\"open\"}")
                }
            } catch let failure as JSONValidator.Failure {
                throw Problem.badRequest("invalid-filter", "filter is not valid JSON: \(failure)")
            }
            filter = buffer
        }
        let digest = ListCursor.digest(filter: filterText)
        var afterID: String? = nil
        if let cursorText = request.query("cursor") {
            guard let cursor = ListCursor(encoded: cursorText), cursor.collection == collection, cursor.filterDigest == digest else {
                throw Problem.badRequest("invalid-cursor", "cursor was not made by this listing; start again without it")
            }
            afterID = cursor.afterID
        }
        let page = try await documents.list(
            in: collection,
            filter: filter,
            afterID: afterID,
            limit: limit,
            maxBytes: maxPageBytes,
            tenant: tenant.scope,
            logger: context.logger
        )
        var body = ByteBuffer()
        body.writeString(#"{"documents":["#)
        for (index, document) in page.documents.enumerated() {
            if index > 0 { body.writeString(",") }
            body.writeDocumentEntry(document)
        }
        body.writeString(#"],"next_cursor":"#)
        if page.hasMore, let last = page.documents.last {
            body.writeJSONString(ListCursor(collection: collection, filterDigest: digest, afterID: last.id).encoded)
        } else {
            body.writeString("null")
        }
        body.writeString("}")
        return .json(body)
    }

    @Sendable func search(_ request: Request, context: AppRequestContext) async throws -> Response {
        let tenant = try context.requireTenant
        let collection = try Name.collection(try context.pathParameter("collection"))
        guard let query = request.query("q"), !query.trimmingCharacters(in: .whitespaces).isEmpty, query.count <= 256 else {
            throw Problem.badRequest("invalid-query", "q must be 1 to 256 characters of search terms")
        }
        let limit = try limitParameter(request, default: 20)
        let found = try await documents.search(
            in: collection,
            query: query,
            limit: limit,
            maxBytes: maxPageBytes,
            tenant: tenant.scope,
            logger: context.logger
        )
        var body = ByteBuffer()
        body.writeString(#"{"results":["#)
        for (index, result) in found.results.enumerated() {
            if index > 0 { body.writeString(",") }
            body.writeDocumentEntry(result.document, rank: result.rank)
        }
        body.writeString(found.truncated ? #"],"truncated":true}"# : #"],"truncated":false}"#)
        return .json(body)
    }

    // MARK: Usage

    @Sendable func showUsage(_ request: Request, context: AppRequestContext) async throws -> UsageReport {
        let tenant = try context.requireTenant
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let monthStart = calendar.date(from: calendar.dateComponents([.year, .month], from: Date()))!
        let fromDay = UsageRecorder.day(of: monthStart)
        let days = try await usage.usage(scope: tenant.scope, fromDay: fromDay, logger: context.logger)
        var totals = UsageCounts()
        for day in days { totals.add(day.counts) }
        let cost = try await CostReport.tenantTotals(
            database: documents.database,
            tenant: tenant.id,
            from: monthStart,
            logger: context.logger
        )
        return UsageReport(
            tenant: tenant.id,
            plan: tenant.plan,
            from: isoDay(fromDay),
            totals: totals,
            days: days.map { UsageReport.Day(day: isoDay($0.day), counts: $0.counts) },
            cost: UsageCost(cost)
        )
    }

    // MARK: Helpers

    private func limitParameter(_ request: Request, default fallback: Int = defaultLimit) throws -> Int {
        guard let text = request.query("limit") else { return fallback }
        guard let limit = Int(text), (1...Self.maximumLimit).contains(limit) else {
            throw Problem.badRequest("invalid-limit", "limit must be a whole number from 1 to \(Self.maximumLimit)")
        }
        return limit
    }
}

/// Decodes the fields of a validated JSON object body; a missing or mistyped field is a 422.
func decodeFields<T: Decodable>(_ type: T.Type, from body: ByteBuffer) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
    } catch let DecodingError.keyNotFound(key, _) {
        throw Problem.unprocessable("invalid-field", "the field '\(key.stringValue)' is missing")
    } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        throw Problem.unprocessable("invalid-field", "the field '\(path)' has the wrong type")
    } catch {
        throw Problem.unprocessable("invalid-field", "the body does not have the expected fields")
    }
}
