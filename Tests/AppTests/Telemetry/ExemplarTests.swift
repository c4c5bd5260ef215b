import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Synchronization
import Telemetry
import TelemetryBootstrap
import Testing

@testable import App

/// The latency histogram links its buckets to traces: in OpenMetrics, for a scraper that asks,
/// each bucket's latest kept request is an exemplar; the Prometheus text format stays the default.
@Suite struct ExemplarTests {
    static let duration = "runway_http_request_duration_seconds"

    func scrape(_ app: TestApp, accept: String?) async throws -> (contentType: String?, text: String) {
        try await app.withAdminClient { client in
            var headers = HTTPFields()
            if let accept { headers[.accept] = accept }
            let response = try await client.send(.get, "/metrics", key: nil, headers: headers)
            #expect(response.status == .ok)
            return (response.headers[.contentType], String(buffer: response.body))
        }
    }

    @Test func openMetricsCarriesTheTraceOfAKeptRequestPerBucket() async throws {
        let kept = Mutex<Set<String>>([])
        let tracer = RunwayTracer(configuration: TracerConfiguration()) { span in
            _ = kept.withLock { $0.insert(span.traceID.description) }
        }
        let app = try await TestApp(tracer: tracer)
        let (_, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            for _ in 0..<3 { _ = try await client.send(.get, "/v1/collections", key: key) }
        }
        let prometheus = try await scrape(app, accept: nil)
        #expect(prometheus.contentType == MetricsExposition.contentType)
        #expect(!prometheus.text.contains("trace_id") && !prometheus.text.contains("# EOF"))

        let open = try await scrape(app, accept: "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
        #expect(open.contentType == MetricsExposition.openMetricsContentType)
        let lines = open.text.split(separator: "\n")
        #expect(lines.last == "# EOF")
        let listed = #"method="GET",route="/v1/collections",status="200""#
        let exemplars = lines.filter { $0.hasPrefix("\(Self.duration)_bucket{\(listed),") && $0.contains(" # {trace_id=\"") }
        #expect(!exemplars.isEmpty, "\(lines.filter { $0.hasPrefix(Self.duration) }.prefix(5))")
        for line in exemplars {
            let traceID = String(line.split(separator: "\"").dropFirst(9).first ?? "")
            #expect(kept.withLock { $0.contains(traceID) }, "exemplar \(traceID) is not a kept trace: \(line)")
        }
        // OpenMetrics names a counter's family without `_total`, its samples with it.
        #expect(lines.contains("# TYPE runway_http_requests counter"))
        #expect(lines.contains { $0.hasPrefix("runway_http_requests_total{\(listed)} ") })
        #expect(!lines.contains { $0.hasPrefix("# TYPE") && $0.hasSuffix("_total counter") })
    }

    @Test func noTraceKeptNoExemplar() async throws {
        let app = try await TestApp()  // tracing off
        let (_, key) = try await app.makeTenant()
        try await app.withPublicClient { client in _ = try await client.send(.get, "/v1/collections", key: key) }
        let open = try await scrape(app, accept: "application/openmetrics-text")
        #expect(open.text.contains("\(Self.duration)_count{"))
        #expect(!open.text.contains("trace_id"))
    }
}
