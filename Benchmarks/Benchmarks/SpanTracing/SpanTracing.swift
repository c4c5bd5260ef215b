import Benchmark
import Logging
import OTel
import Telemetry
import TempoExport
import Tracing

// The caller's cost of one sampled span: start, four attributes, end, through each tracer's real
// span processor, which runs in the background as it does in the service. RunwayTracer hands the
// finished span to the `spans` BatchingPipeline; swift-otel 1.6.0 (the exporter to beat) to its
// tracer service and OTelBatchSpanProcessor. Neither exports anything (swift-otel's exporter
// `none`; ours a discarding exporter), so only the tracer and the processor are measured.
// swift-distributed-tracing's NoOpTracer gives the floor of the API itself.

/// Takes every batch without encoding or sending it.
struct DiscardingSpanExporter: BatchExporter {
    func export(_ batch: [FinishedSpan]) async -> ExportResult { .delivered }
}

/// The span the request middleware makes, in the shape the app writes it.
@inline(__always)
func oneSpan(_ tracer: some Tracer, index: Int) {
    let span = tracer.startSpan("GET /v1/collections/{collection}/documents/{id}", context: .topLevel, ofKind: .server)
    span.attributes["http.request.method"] = "GET"
    span.attributes["http.route"] = "/v1/collections/{collection}/documents/{id}"
    span.attributes["http.response.status_code"] = 200
    span.attributes["runway.request.bytes"] = index
    span.end()
}

func makeRunwayTracer() -> RunwayTracer {
    var batching = BatchingConfiguration()
    batching.name = "spans"
    let pipeline = BatchingPipeline(exporter: DiscardingSpanExporter(), configuration: batching)
    let drain = Task { await pipeline.run() }
    _ = drain
    var configuration = TracerConfiguration()
    configuration.sampleRatio = 1
    return RunwayTracer(configuration: configuration) { span in
        pipeline.enqueue(span, size: TempoExporter.size(of: span))
    }
}

func makeSwiftOTelTracer() -> any Tracer {
    var configuration = OTel.Configuration.default
    configuration.serviceName = "runway"
    configuration.diagnosticLogger = .custom(Logger(label: "swift-otel") { _ in SwiftLogNoOpLogHandler() })
    configuration.logs.enabled = false
    configuration.metrics.enabled = false
    configuration.traces.sampler = .alwaysOn
    configuration.traces.exporter = .none
    let (tracer, service) = try! OTel.makeTracingBackend(configuration: configuration)
    let running = Task { try await service.run() }
    _ = running
    return tracer
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, .peakMemoryResident],
        scalingFactor: .kilo,
        maxDuration: .seconds(5),
        maxIterations: 100_000
    )

    // 1,000 spans per sample: run with --scale to read per-span figures.
    let runway = makeRunwayTracer()
    Benchmark("RunwayTracer: sampled span, 4 attributes (1,000 per sample)") { benchmark in
        for index in benchmark.scaledIterations { oneSpan(runway, index: index) }
    }

    // Where the allocations are: the span alone (no attributes), and no pipeline (a sink that drops).
    Benchmark("RunwayTracer: sampled span, no attributes (1,000 per sample)") { benchmark in
        for _ in benchmark.scaledIterations {
            runway.startSpan("GET /v1/collections/{collection}/documents/{id}", context: .topLevel, ofKind: .server).end()
        }
    }
    var sampled = TracerConfiguration()
    sampled.sampleRatio = 1
    let sinkless = RunwayTracer(configuration: sampled) { blackHole($0) }
    Benchmark("RunwayTracer without a pipeline: sampled span, 4 attributes (1,000 per sample)") { benchmark in
        for index in benchmark.scaledIterations { oneSpan(sinkless, index: index) }
    }

    let otel = makeSwiftOTelTracer()
    Benchmark("swift-otel 1.6.0: sampled span, 4 attributes (1,000 per sample)") { benchmark in
        for index in benchmark.scaledIterations { oneSpan(otel, index: index) }
    }

    let noop = NoOpTracer()
    Benchmark("NoOpTracer (the API's floor): span, 4 attributes (1,000 per sample)") { benchmark in
        for index in benchmark.scaledIterations { oneSpan(noop, index: index) }
    }
}
