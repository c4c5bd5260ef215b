import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import TelemetryTesting
import Testing
import Tracing

@testable import App

/// A Runway built the way `serve` builds it, over the shared test database, with a manual clock
/// for rate limits.
struct TestApp {
    static let adminToken = "test-admin-token-0123456789"

    let services: RunwayServices
    let clock: TestClock
    let rateLimiter: RateLimiter<TestClock>

    /// - Parameters:
    ///   - client: the service's pool; nil: the shared one.
    ///   - databaseTimeout: `RUNWAY_DB_TIMEOUT_MS`.
    init(
        maxDocumentBytes: Int = 1 << 20,
        maxPageBytes: Int = 4 << 20,
        tracer: any Tracer = NoOpTracer(),
        client: PostgresClient? = nil,
        databaseTimeout: Duration = .seconds(5)
    ) async throws {
        let shared = try await TestDatabase.get()
        self.services = RunwayServices(
            clients: DatabaseClients(client ?? shared.client),
            maxDocumentBytes: maxDocumentBytes,
            maxPageBytes: maxPageBytes,
            usageFlushInterval: .seconds(3600),
            tracer: tracer,
            logger: TestDatabase.logger,
            databaseTimeout: databaseTimeout
        )
        self.clock = TestClock()
        self.rateLimiter = RateLimiter(clock: clock)
    }

    var publicApplication: some ApplicationProtocol { publicApplication(logger: TestDatabase.logger) }

    func publicApplication(logger: Logger) -> some ApplicationProtocol {
        Application(router: buildPublicRouter(services: services, rateLimiter: rateLimiter), logger: logger)
    }

    var adminApplication: some ApplicationProtocol {
        Application(router: buildAdminRouter(services: services, adminToken: Self.adminToken), logger: TestDatabase.logger)
    }

    /// A new tenant with a unique name on `plan`, and its key.
    func makeTenant(plan: String = "enterprise") async throws -> (tenant: Tenant, key: String) {
        let (tenant, key) = try await services.tenants.createTenant(
            name: "tenant-\(UUID().uuidString.prefix(8))",
            plan: plan,
            logger: TestDatabase.logger
        )
        return (tenant, key.value)
    }

    /// Runs `body` with a client for the public listener.
    func withPublicClient<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await publicApplication.test(.router, body)
    }

    func withAdminClient<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await adminApplication.test(.router, body)
    }
}

extension TestClientProtocol {
    /// Sends a request as the holder of `key` (nil: no Authorization header).
    func send(
        _ method: HTTPRequest.Method,
        _ uri: String,
        key: String?,
        json: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let key { headers[.authorization] = "Bearer \(key)" }
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await executeRequest(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body parsed as a JSON object.
    var object: [String: Any] {
        get throws {
            let value = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
            return try #require(value as? [String: Any], "not a JSON object: \(text)")
        }
    }

    /// Asserts an RFC 9457 problem with the given status and type slug.
    func expectProblem(_ status: HTTPResponse.Status, _ slug: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(self.status == status, "\(text)", sourceLocation: sourceLocation)
        #expect(headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        let problem = try object
        #expect(problem["type"] as? String == "urn:runway:problem:\(slug)", "\(text)", sourceLocation: sourceLocation)
        #expect(problem["status"] as? Int == Int(status.code), sourceLocation: sourceLocation)
        #expect(problem["title"] is String, sourceLocation: sourceLocation)
    }
}
