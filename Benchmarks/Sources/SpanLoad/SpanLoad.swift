import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle
import Telemetry
import TelemetryTesting
import TempoExport
import Tracing

// Sustained span load through the real tracer, `spans` pipeline and TempoExporter, with the
// service's default span settings (TempoConfiguration: queue 2,048 spans, batches of 512, two
// exports in flight).
//
// Usage:
//   SpanLoad deliver URL RATE SECONDS   spans at RATE per second to the OTLP/HTTP collector at URL
//                                       for SECONDS, then a graceful stop; prints the pipeline's
//                                       counters (ended = sent + dropped + buffered)
//   SpanLoad dead SPANS                 the collector is dead (a refused loopback port): ends
//                                       SPANS spans as fast as it can and prints resident memory
//                                       before, at its peak and after, against the queue's bound
// Pin it to one core with `taskset -c 0` (scripts/bench does).

/// The server span a request makes, with the attributes the middleware sets.
@inline(__always)
func requestSpan(_ tracer: RunwayTracer, index: Int) {
    let span = tracer.startSpan("GET /v1/collections/{collection}/documents/{id}", context: .topLevel, ofKind: .server)
    span.attributes["http.request.method"] = "GET"
    span.attributes["http.route"] = "/v1/collections/{collection}/documents/{id}"
    span.attributes["http.response.status_code"] = 200
    span.attributes["http.response.body.size"] = 512 + index % 97
    span.end()
}

func describe(_ counters: PipelineCounters.Snapshot, ended: Int) -> String {
    let dropped = counters.dropped.map { "\($0.key.name)\($0.key.detail.map { "(\($0))" } ?? "")=\($0.value)" }.sorted()
    return "ended=\(ended) enqueued=\(counters.enqueued) sent=\(counters.sent) buffered=\(counters.buffered) "
        + "dropped=\(counters.droppedTotal) \(dropped.joined(separator: " ")) balanced=\(counters.isBalanced)"
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let mode = arguments.first, mode == "deliver" || mode == "dead" else {
    FileHandle.standardError.write(Data("usage: SpanLoad deliver URL RATE SECONDS | SpanLoad dead SPANS\n".utf8))
    exit(64)
}

let url = mode == "deliver" ? arguments[1] : "http://127.0.0.1:\(try refusedLoopbackPort())"
// The service's default span settings (the service reads OTEL_BSP_* over them in its configuration).
let tempo = TempoConfiguration(exporter: .init(baseURL: url))
let exporter = TempoExporter(
    client: .shared,
    configuration: tempo.exporter,
    resource: TempoResource(serviceName: "runway", serviceVersion: "bench", instanceID: "spanload", environment: "bench")
)
let pipeline = BatchingPipeline(exporter: exporter, configuration: tempo.batching)
var tracerConfiguration = TracerConfiguration()
tracerConfiguration.sampleRatio = 1
let tracer = RunwayTracer(configuration: tracerConfiguration) { pipeline.enqueue($0) }
let services = ServiceGroup(services: [pipeline], logger: Logger(label: "spanload") { _ in SwiftLogNoOpLogHandler() })
let running = Task { try await services.run() }
let clock = ContinuousClock()

if mode == "deliver" {
    let rate = Int(arguments[2]) ?? 100_000
    let seconds = Int(arguments[3]) ?? 10
    print(
        "deliver: \(rate) spans/s for \(seconds) s to \(url); queue \(tempo.batching.maximumBufferEntries ?? 0) spans, "
            + "batches of \(tempo.batching.maximumBatchEntries ?? 0), \(tempo.batching.maximumConcurrentExports) in flight"
    )
    // Paced in 1 ms slices: each slice ends its share of spans, then waits for the next one.
    let perSlice = max(rate / 1000, 1)
    let start = clock.now
    var ended = 0
    var cpuBefore = rusage()
    getrusage(RUSAGE_SELF.rawValue, &cpuBefore)
    for slice in 0..<(seconds * 1000) {
        for _ in 0..<perSlice {
            requestSpan(tracer, index: ended)
            ended += 1
        }
        let next = start.advanced(by: .milliseconds(slice + 1))
        if clock.now < next { try await clock.sleep(until: next, tolerance: .microseconds(200)) }
    }
    let elapsed = start.duration(to: clock.now)
    var cpuAfter = rusage()
    getrusage(RUSAGE_SELF.rawValue, &cpuAfter)
    func cpuSeconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    let cpu =
        cpuSeconds(cpuAfter.ru_utime) + cpuSeconds(cpuAfter.ru_stime) - cpuSeconds(cpuBefore.ru_utime)
        - cpuSeconds(cpuBefore.ru_stime)
    let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print(
        String(
            format: "produced %d spans in %.2f s: %.0f spans/s; process CPU %.2f s (%.0f%% of one core)",
            ended,
            wall,
            Double(ended) / wall,
            cpu,
            cpu / wall * 100
        )
    )
    print("before the stop: " + describe(pipeline.counters.snapshot, ended: ended))
    // A graceful stop: the pipeline flushes what is left within its deadline.
    await services.triggerGracefulShutdown()
    try await running.value
    print("after the stop:  " + describe(pipeline.counters.snapshot, ended: ended))
} else {
    let spans = Int(arguments[1]) ?? 1_000_000
    let before = processMemoryMiB("VmRSS")
    print(
        String(
            format: "dead collector at %@; queue bound %d spans / %d MiB; RSS before %.1f MiB",
            url,
            tempo.batching.maximumBufferEntries ?? 0,
            tempo.batching.maximumBufferBytes >> 20,
            before
        )
    )
    for index in 0..<spans {
        requestSpan(tracer, index: index)
        if index % 100_000 == 99_999 {
            print(String(format: "  %7d spans ended: RSS %.1f MiB", index + 1, processMemoryMiB("VmRSS")))
        }
    }
    print(
        String(
            format: "after %d spans: RSS %.1f MiB, peak %.1f MiB (+%.1f MiB over the start)",
            spans,
            processMemoryMiB("VmRSS"),
            processMemoryMiB("VmHWM"),
            processMemoryMiB("VmHWM") - before
        )
    )
    print(describe(pipeline.counters.snapshot, ended: spans))
    running.cancel()
}
