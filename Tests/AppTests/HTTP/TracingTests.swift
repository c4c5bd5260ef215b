import Foundation
import HTTPTypes
import HummingbirdTesting
import InMemoryTracing
import Synchronization
import Telemetry
import Testing
import Tracing

@testable import App

/// The spans a request produces: one server span named by route template, continuing the caller's
/// trace, with a child span per database transaction named by operation and table.
@Suite struct TracingTests {
    @Test func aRequestIsOneServerSpanWithADatabaseChildSpanAndNoParameterValues() async throws {
        let tracer = InMemoryTracer()
        let app = try await TestApp(tracer: tracer)
        let (tenant, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"traced"}"#)
            tracer.clearFinishedSpans()
            // The caller's trace context comes in as headers (the in-memory tracer's own names).
            var headers = HTTPFields()
            headers[HTTPField.Name(InMemoryTracer.traceIDKey)!] = "caller-trace"
            headers[HTTPField.Name(InMemoryTracer.spanIDKey)!] = "caller-span"
            let response = try await client.send(.get, "/v1/collections/traced/documents/secret-doc-42", key: key, headers: headers)
            #expect(response.status == .notFound)
        }
        let spans = tracer.finishedSpans
        let server = try #require(spans.first { $0.kind == .server })
        #expect(server.operationName == "GET /v1/collections/{collection}/documents/{id}")
        #expect(server.traceID == "caller-trace")
        #expect(server.parentSpanID == "caller-span")
        #expect(server.attributes["http.route"]?.toSpanAttribute() == "/v1/collections/{collection}/documents/{id}")
        #expect(server.attributes["http.response.status_code"]?.toSpanAttribute() == 404)
        #expect(server.attributes["runway.tenant.id"]?.toSpanAttribute() == .string(tenant.id.uuidString))
        #expect(server.status == nil, "a 404 is not a server error")

        // The key was looked up on the first request and is cached: one round trip, one span.
        let database = spans.filter { $0.kind == .client }
        #expect(database.map(\.operationName) == ["SELECT documents"])
        for span in database {
            #expect(span.traceID == "caller-trace")
            #expect(span.parentSpanID == server.spanID)
            #expect(span.attributes["db.system.name"]?.toSpanAttribute() == "postgresql")
        }
        for span in spans {
            span.attributes.forEach { name, value in
                #expect(!"\(value)".contains("secret-doc-42"), "\(span.operationName) \(name)")
            }
        }
    }

    @Test func runwaysTracerContinuesAW3CTraceparentAndExportsTheRequestsSpans() async throws {
        let exported = Mutex<[FinishedSpan]>([])
        let tracer = RunwayTracer(configuration: TracerConfiguration()) { span in exported.withLock { $0.append(span) } }
        let app = try await TestApp(tracer: tracer)
        let (_, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"w3c"}"#)
            exported.withLock { $0.removeAll() }
            var headers = HTTPFields()
            headers[HTTPField.Name("traceparent")!] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            let response = try await client.send(.put, "/v1/collections/w3c/documents/d1", key: key, json: "{}", headers: headers)
            #expect(response.status == .created)
        }
        let spans = exported.withLock { $0 }
        let server = try #require(spans.first { $0.kind == .server })
        #expect(server.name == "PUT /v1/collections/{collection}/documents/{id}")
        #expect(server.traceID.description == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(server.parentSpanID?.description == "00f067aa0ba902b7")
        #expect(server.hasRemoteParent)
        let children = spans.filter { $0.kind == .client }
        #expect(children.map(\.name) == ["UPSERT documents"])  // the key is cached since the first request
        #expect(children.allSatisfy { $0.parentSpanID == server.spanID && $0.traceID == server.traceID })
        #expect(tracer.counters.snapshot.isBalanced)
    }
}
