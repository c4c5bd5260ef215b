import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import LokiPush
import Telemetry
import TelemetryTesting
import Testing

@testable import App

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct RequestLoggingTests {
    @Test func everyRequestLogsOneAccessLineWithTheRouteTemplateNotThePath() async throws {
        let app = try await TestApp()
        let (tenant, key) = try await app.makeTenant()
        let output = JSONLineOutput(capturing: true)
        let logger = Logger(label: "runway") { JSONLogHandler(label: $0, level: .info, output: output) }
        try await app.publicApplication(logger: logger).test(.router) { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"logged"}"#)
            _ = try await client.send(.get, "/v1/collections/logged/documents/secret-id-123", key: key)
            _ = try await client.send(.get, "/healthz", key: nil)
        }
        let lines = try output.captured.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]) }
        let access = lines.filter { $0["msg"] == "request" }
        #expect(access.count == 3)
        let read = try #require(access.first { $0["method"] == "GET" && $0["route"]?.contains("documents") == true })
        #expect(read["route"] == "/v1/collections/{collection}/documents/{id}")
        #expect(read["status"] == "404")
        #expect(read["tenant"] == tenant.id.uuidString)
        #expect(read["request_id"]?.isEmpty == false)
        #expect(Double(read["duration_ms"] ?? "") != nil)
        #expect(!output.captured.joined().contains("secret-id-123"))
        #expect(access.first { $0["route"] == "/healthz" }?["tenant"] == nil)
    }

    @Test func requestsCompleteWhileLokiNeverAnswers() async throws {
        // Loki at a socket that listens and never accepts: every push hangs until its timeout.
        let loki = try SilentListener()
        var configuration = RunwayConfiguration(environment: [:])
        configuration.lokiURL = "http://127.0.0.1:\(loki.port)"
        let pipeline = LogBootstrap.makeLokiPipeline(configuration: configuration, url: configuration.lokiURL!)
        let sink = try LokiSink(options: .init(labels: ["service_name": "runway"])) { pipeline.enqueue($0, size: $0.size) }
        let logger = Logger(label: "runway") { LokiLogHandler(label: $0, sink: sink) }

        let app = try await TestApp()
        let (_, key) = try await app.makeTenant()
        let running = Task { await pipeline.run() }
        defer { running.cancel() }
        try await app.publicApplication(logger: logger).test(.router) { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"c"}"#)
            for i in 0..<200 {
                let response = try await client.send(.put, "/v1/collections/c/documents/d\(i)", key: key, json: #"{"i":\#(i)}"#)
                #expect(response.status == .created)
            }
        }
        let counters = pipeline.counters.snapshot
        #expect(counters.enqueued >= 201)
        #expect(counters.sent == 0)
        #expect(counters.isBalanced)
    }
}
