import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle

// A bare Hummingbird server that answers `GET /healthz` as Runway does and does nothing else: the
// ceiling Runway's whole middleware stack is measured against (`scripts/bench-load --healthz`).
//
// With `--db SOCKET-DIR` it also serves the Rust reference service's document GET and PUT the way
// the reference does them, on Hummingbird and PostgresNIO used plainly (Hummingbird's own HTTP/1
// server, one PostgresClient with a connection per core, as the reference has): a key look-up on
// one pooled connection, then BEGIN, set_config, the statement and COMMIT on another, every
// statement prepared; no telemetry, no cost meter, no problem bodies. It runs against the
// reference's own database (user ref_app, database refdb on that socket folder), so the same
// requests do the same database work: what it costs over the reference is the Swift stack's
// (`BENCH_PLAIN=1 scripts/bench-load --reference`).
//
// Usage: bare-hello PORT [--db SOCKET-DIR] (PORT 0: any free port); prints
// "bare-hello listening on http://127.0.0.1:PORT".
let arguments = Array(CommandLine.arguments.dropFirst())
let port = arguments.first.flatMap { Int($0) } ?? 0
let socketDirectory = arguments.firstIndex(of: "--db").flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }

let router = Router()
router.get("healthz") { _, _ in
    Response(
        status: .ok,
        headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#))
    )
}
var services: [any Service] = []
if let socketDirectory {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    var configuration = PostgresClient.Configuration(
        unixSocketPath: "\(socketDirectory)/.s.PGSQL.5432",
        username: "ref_app",
        password: nil,
        database: "refdb"
    )
    configuration.options.minimumConnections = cores
    configuration.options.maximumConnections = cores
    let client = PostgresClient(configuration: configuration)
    services.append(client)
    let documents = ReferenceDocuments(client: client, logger: Logger(label: "bare-hello"))
    router.get("v1/collections/:collection/documents/:id") { request, context in
        try await documents.get(request, context)
    }
    router.put("v1/collections/:collection/documents/:id") { request, context in
        try await documents.put(request, context)
    }
}
let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "bare-hello"),
    services: services,
    onServerRunning: { channel in
        let line = "bare-hello listening on http://127.0.0.1:\(channel.localAddress?.port ?? port)\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }
)
try await app.runService()

/// The reference service's GET and PUT of a document, statement for statement.
struct ReferenceDocuments: Sendable {
    let client: PostgresClient
    let logger: Logger

    func get(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let (collection, id) = try (context.parameters.require("collection"), context.parameters.require("id"))
        guard let tenant = try await authenticate(request) else { return Response(status: .unauthorized) }
        let row = try await tenantTransaction(tenant) { connection in
            try await Self.first(of: connection.execute(GetDocument(collection: collection, id: id), logger: logger))
        }
        guard let (body, version) = row else { return Response(status: .notFound) }
        return Self.json(.ok, ByteBuffer(string: body), version: version)
    }

    func put(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let (collection, id) = try (context.parameters.require("collection"), context.parameters.require("id"))
        guard let tenant = try await authenticate(request) else { return Response(status: .unauthorized) }
        let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
        guard (try? JSONSerialization.jsonObject(with: Data(body.utf8))) is [String: Any] else { return Response(status: .badRequest) }
        let version = try await tenantTransaction(tenant) { connection in
            try await Self.first(of: connection.execute(PutDocument(collection: collection, id: id, body: body), logger: logger))
        }
        guard let version else { return Response(status: .internalServerError) }
        return Self.json(version == 1 ? .created : .ok, ByteBuffer(string: #"{"id":"\#(id)","version":\#(version)}"#), version: version)
    }

    /// The tenant of the request's bearer key, looked up by its SHA-256 on a connection of its own.
    private func authenticate(_ request: Request) async throws -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.count > 7 else { return nil }
        let hash = ByteBuffer(bytes: SHA256.hash(data: Array(header.utf8.dropFirst(7))))
        return try await client.withConnection { connection in
            try await Self.first(of: connection.execute(KeyTenant(hash: hash), logger: logger))
        }
    }

    /// BEGIN; set_config('app.tenant_id', tenant, true); `body`; COMMIT.
    private func tenantTransaction<Result: Sendable>(
        _ tenant: String,
        _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await client.withConnection { connection in
            _ = try await connection.execute(Begin(), logger: logger)
            _ = try await Self.first(of: connection.execute(SetTenant(tenant: tenant), logger: logger))
            let result = try await body(connection)
            _ = try await connection.execute(Commit(), logger: logger)
            return result
        }
    }

    /// The first row of `rows`, the rest read and dropped.
    private static func first<Rows: AsyncSequence>(of rows: Rows) async throws -> Rows.Element? {
        var first: Rows.Element?
        for try await row in rows where first == nil { first = row }
        return first
    }

    private static func json(_ status: HTTPResponse.Status, _ body: ByteBuffer, version: Int64) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .eTag: "\"\(version)\""], body: .init(byteBuffer: body))
    }
}

/// The bindings of a statement's parameters, in order.
func bindings<each Value: PostgresDynamicTypeEncodable>(_ value: repeat each Value) -> PostgresBindings {
    var bindings = PostgresBindings()
    repeat bindings.append(each value)
    return bindings
}

struct KeyTenant: PostgresPreparedStatement {
    static let sql = "SELECT tenant_id::text FROM api_keys WHERE key_hash = $1"
    typealias Row = String
    let hash: ByteBuffer
    func makeBindings() throws -> PostgresBindings { bindings(hash) }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

struct SetTenant: PostgresPreparedStatement {
    static let sql = "SELECT set_config('app.tenant_id', $1, true)"
    typealias Row = String
    let tenant: String
    func makeBindings() throws -> PostgresBindings { bindings(tenant) }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

struct GetDocument: PostgresPreparedStatement {
    static let sql = "SELECT body::text, version FROM documents WHERE collection = $1 AND id = $2"
    typealias Row = (String, Int64)
    let collection: String
    let id: String
    func makeBindings() throws -> PostgresBindings { bindings(collection, id) }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

struct PutDocument: PostgresPreparedStatement {
    static let sql = """
        INSERT INTO documents AS d (tenant_id, collection, id, body, version, updated_at) \
        VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3::text::jsonb, 1, now()) \
        ON CONFLICT (tenant_id, collection, id) \
        DO UPDATE SET body = EXCLUDED.body, version = d.version + 1, updated_at = now() \
        RETURNING version
        """
    typealias Row = Int64
    let collection: String
    let id: String
    let body: String
    func makeBindings() throws -> PostgresBindings { bindings(collection, id, body) }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// A statement with no parameters and no rows: `BEGIN`, `COMMIT`.
protocol Command: PostgresPreparedStatement where Row == () {}

extension Command {
    func makeBindings() throws -> PostgresBindings { PostgresBindings() }
    func decodeRow(_ row: PostgresRow) throws {}
}

struct Begin: Command {
    static let sql = "BEGIN"
}

struct Commit: Command {
    static let sql = "COMMIT"
}
