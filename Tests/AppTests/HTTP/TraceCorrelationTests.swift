import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
@_spi(Benchmarks) import Telemetry
import Testing
import Tracing

@testable import App

/// Every request has a trace context, traced or not: its access line, its `traceresponse` header
/// and its problem body name the same trace, so a tenant's "request X failed" leads to its lines.
@Suite struct TraceCorrelationTests {
    static let traceresponse = HTTPField.Name("traceresponse")!
    static let incoming = "4bf92f3577b34da6a3ce929d0e0e4736"

    /// nil: no tracer (tracing off); else RunwayTracer at that head-sampling ratio.
    @Test(arguments: [nil, 0.1, 1.0] as [Double?])
    func everyAccessLineAndResponseNamesItsTrace(sampleRatio: Double?) async throws {
        let tracer: any Tracer =
            sampleRatio.map { ratio in
                var configuration = TracerConfiguration()
                configuration.sampleRatio = ratio
                return RunwayTracer(configuration: configuration) { _ in }
            } ?? NoOpTracer()
        let app = try await TestApp(tracer: tracer)
        let (_, key) = try await app.makeTenant()
        let output = JSONLineOutput(capturing: true)
        let logger = Logger(label: "runway") { JSONLogHandler(label: $0, level: .info, output: output, metadataProvider: .tracing) }
        let responses = try await app.publicApplication(logger: logger).test(.router) { client in
            var responses: [TestResponse] = []
            for index in 0..<10 {
                responses.append(try await client.send(.get, "/v1/collections", key: key))
                responses.append(try await client.send(.get, "/v1/collections/none-\(index)/documents/d", key: key))
                responses.append(try await client.send(.get, "/v1/collections", key: nil))
            }
            var headers = HTTPFields()
            headers[HTTPField.Name("traceparent")!] = "00-\(Self.incoming)-00f067aa0ba902b7-01"
            responses.append(try await client.send(.get, "/v1/collections", key: nil, headers: headers))
            return responses
        }
        let lines = try output.captured.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]) }
        let access = lines.filter { $0["msg"] == "request" }
        #expect(access.count == responses.count)
        #expect(access.allSatisfy { $0["trace_id"]?.count == 32 && $0["span_id"]?.count == 16 }, "\(access.prefix(3))")
        let logged = Set(access.compactMap { line in line["trace_id"].flatMap { trace in line["span_id"].map { "\(trace)-\($0)" } } })
        for response in responses {
            let header = try #require(response.headers[Self.traceresponse], "no traceresponse on a \(response.status)")
            let traceparent = try #require(W3CTraceContext.parseTraceparent(header), "\(header)")
            #expect(logged.contains("\(traceparent.traceID)-\(traceparent.parentID)"), "the access line of \(header)")
            if response.status.code >= 400 {
                #expect(try response.object["trace_id"] as? String == traceparent.traceID.description)
            }
        }
        let continued = try #require(responses.last?.headers[Self.traceresponse])
        #expect(continued.hasPrefix("00-\(Self.incoming)-"), "the caller's trace is continued")
        #expect(Set(responses.compactMap { $0.headers[Self.traceresponse] }).count == responses.count, "one span per request")
    }
}
