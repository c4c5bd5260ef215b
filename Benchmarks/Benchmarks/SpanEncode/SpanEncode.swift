import Benchmark
import NIOCore
import Telemetry
import TelemetryTesting
@_spi(Benchmarks) import TempoExport
import Tracing

// Encoding one OTLP request of 512 typical spans (what the exporter does per batch): the shape
// of a request's trace in the service, a server span with its ten attributes and two database
// client spans with three each, repeated. Throughput in spans/s is 512 x the samples per second.

let resource = TempoResource(
    serviceName: "runway",
    serviceVersion: "0.4.0",
    instanceID: "runway-7f9c4d-2",
    environment: "production"
)
let encoder = TraceRequestEncoder(resource: resource)

func typicalSpans(count: Int) -> [FinishedSpan] {
    var generator = SplitMix64(state: 42)
    var spans: [FinishedSpan] = []
    spans.reserveCapacity(count)
    var traceID = TraceID(high: generator.next(), low: generator.next())
    var serverID = SpanID(generator.next())
    let start: UInt64 = 1_795_000_000_000_000_000
    for index in 0..<count {
        let offset = UInt64(index) * 1_000_000
        switch index % 3 {
        case 0:
            traceID = TraceID(high: generator.next(), low: generator.next())
            serverID = SpanID(generator.next())
            spans.append(
                FinishedSpan(
                    traceID: traceID,
                    spanID: serverID,
                    parentSpanID: nil,
                    name: "GET /v1/collections/{collection}/documents/{id}",
                    kind: .server,
                    startNanoseconds: start + offset,
                    endNanoseconds: start + offset + 1_843_211,
                    attributes: [
                        "http.request.method": "GET",
                        "http.route": "/v1/collections/{collection}/documents/{id}",
                        "http.response.status_code": .int64(200),
                        "http.response.body.size": .int64(Int64(512 + index)),
                        "runway.request.id": "6f1c2a9e-1d2b-4b7d-9a51-3c8e2f0d7b64",
                        "runway.tenant.id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                        "runway.cpu.app_ns": .int64(Int64(211_000 + index)),
                        "runway.cpu.db_ns": .int64(Int64(95_000 + index)),
                        "runway.cost.microusd": .int64(0),
                        "network.protocol.version": "1.1",
                    ],
                    flags: .sampled
                )
            )
        default:
            spans.append(
                FinishedSpan(
                    traceID: traceID,
                    spanID: SpanID(generator.next()),
                    parentSpanID: serverID,
                    name: index % 3 == 1 ? "SELECT documents" : "UPDATE usage_daily",
                    kind: .client,
                    startNanoseconds: start + offset + 100_000,
                    endNanoseconds: start + offset + 700_000,
                    attributes: [
                        "db.system.name": "postgresql",
                        "db.operation.name": index % 3 == 1 ? "SELECT" : "UPDATE",
                        "db.collection.name": index % 3 == 1 ? "documents" : "usage_daily",
                    ],
                    flags: .sampled
                )
            )
        }
    }
    return spans
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal],
        maxDuration: .seconds(5),
        maxIterations: 100_000
    )
    let batch = typicalSpans(count: 512)
    print("one request of 512 typical spans: \(encoder.encodedSize(batch)) bytes")

    Benchmark("encode 512 typical spans (one OTLP request)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(encoder.encode(batch))
        }
    }

    Benchmark("encode 512 typical spans + gzip") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! Gzip.compress(encoder.encode(batch)))
        }
    }
}
