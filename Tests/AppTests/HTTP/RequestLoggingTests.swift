import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import LokiPush
import NIOCore
import NIOEmbedded
@_spi(Benchmarks) import Telemetry
import TelemetryBootstrap
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

    @Test func theAccessLineGivesItsDurationInMillisecondsWithThreeDecimalsRounded() {
        #expect(RequestTelemetryMiddleware.milliseconds(.nanoseconds(12_345_600)) == "12.346")
        #expect(RequestTelemetryMiddleware.milliseconds(.nanoseconds(12_345_499)) == "12.345")
        #expect(RequestTelemetryMiddleware.milliseconds(.nanoseconds(5_000)) == "0.005")
        #expect(RequestTelemetryMiddleware.milliseconds(.nanoseconds(400)) == "0.000")
        #expect(RequestTelemetryMiddleware.milliseconds(.seconds(2)) == "2000.000")
        #expect(RequestTelemetryMiddleware.milliseconds(.nanoseconds(999_999_600)) == "1000.000")
    }

    @Test func requestsCompleteWhileLokiNeverAnswers() async throws {
        // Loki at a socket that listens and never accepts: every push hangs until its timeout.
        let loki = try SilentListener()
        var configuration = TelemetryConfiguration(instance: "test")
        configuration.loki = .init(url: "http://127.0.0.1:\(loki.port)")
        let pipeline = LokiPipelines(configuration: TelemetrySystem.lokiPipelines(try #require(configuration.loki)))
        let sink = try TelemetrySystem.lokiSink(configuration, loki: configuration.loki!) { pipeline.enqueue($0) }
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
        let counters = pipeline.snapshot
        #expect(counters.enqueued >= 201)
        #expect(counters.sent == 0)
        #expect(counters.isBalanced)
    }

    @Test func metricsShowRequestsByRouteTemplateStatusAndLatency() async throws {
        let app = try await TestApp()
        let (_, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"m"}"#)
            for i in 0..<3 { _ = try await client.send(.get, "/v1/collections/m/documents/missing-\(i)", key: key) }
            _ = try await client.send(.get, "/nowhere/at-all", key: key)
        }
        let text = try await app.withAdminClient { client in
            let response = try await client.send(.get, "/metrics", key: nil)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            return String(buffer: response.body)
        }
        let read = #"method="GET",route="/v1/collections/{collection}/documents/{id}",status="404""#
        #expect(text.contains(#"runway_http_requests_total{\#(read)} 3"#))
        #expect(text.contains(#"runway_http_request_duration_seconds_bucket{\#(read),le="0.001"}"#))
        #expect(text.contains(#"runway_http_request_duration_seconds_bucket{\#(read),le="10.0"} 3"#))
        #expect(text.contains(#"runway_http_request_duration_seconds_count{\#(read)} 3"#))
        #expect(text.contains(#"runway_http_requests_total{method="POST",route="/v1/collections",status="201"} 1"#))
        #expect(text.contains(#"route="NotFound",status="404""#))  // Hummingbird's name for "no route"
        #expect(!text.contains("missing-0") && !text.contains("nowhere"))
        #expect(text.contains(#"runway_cost_microdollars_total{kind="tenant"}"#))
        #expect(text.contains(#"runway_cpu_seconds_total{kind="overhead"}"#))
        for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"] {
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(name + " ") }, "\(name)")
            #expect((Double(line.split(separator: " ")[1]) ?? 0) > 0, "\(line)")
        }
    }
}

/// Every line a request logs names it as its problem body and access line do (`request_id`), not
/// only by Hummingbird's `hb.request.id`: an error line is found by the id a tenant quotes.
@Suite struct RequestIDMetadataTests {
    @Test func everyLineOfARequestCarriesItsRequestID() throws {
        let output = JSONLineOutput(capturing: true)
        let logger = Logger(label: "runway") { JSONLogHandler(label: $0, level: .info, output: output) }
        let channel = EmbeddedChannel()
        let first = AppRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
        let second = AppRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
        first.logger.error("request failed")
        second.logger.error("request failed")

        let lines = try output.captured.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]) }
        #expect(lines.map { $0["request_id"] } == [first.id, second.id])
        #expect(first.id.count == 32 && first.id != second.id)
    }
}
