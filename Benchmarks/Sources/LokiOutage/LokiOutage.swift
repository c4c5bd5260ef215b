import AsyncHTTPClient
import Foundation
import Logging
import LokiPush
import Synchronization
import Telemetry
import TelemetryTesting

// Memory while Loki is down: logs far more than the buffer holds through the real handler,
// pipeline and exporter, with LOKI_URL at a loopback port that refuses connections, and reports
// the process's resident memory before, at its peak (VmHWM) and at the end.
//
// Usage: LokiOutage [buffer MiB = 8] [seconds = 20] [lines per second = 50000]

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let bufferMiB = arguments.first ?? 8
let seconds = arguments.dropFirst().first ?? 20
let linesPerSecond = arguments.dropFirst(2).first ?? 50_000

let port = try refusedLoopbackPort()
var configuration = BatchingConfiguration()
configuration.maximumBufferBytes = bufferMiB << 20
let exporter = LokiExporter(client: .shared, configuration: .init(baseURL: "http://127.0.0.1:\(port)"))
let pipeline = BatchingPipeline(exporter: exporter, configuration: configuration)
let options = LokiSink.Options(labels: ["service_name": "runway", "env": "production", "instance": "runway-7f9c4d-2"])
let sink = try LokiSink(options: options) { record in pipeline.enqueue(record) }
let logger = Logger(label: "runway.access") { LokiLogHandler(label: $0, sink: sink) }
let running = Task { await pipeline.run() }

/// Logs `count` typical access lines (about 120 bytes of line and metadata).
func logLines(_ count: Int, from start: Int) {
    for index in start..<(start + count) {
        logger.info(
            "request completed: GET /v1/collections/{collection}/documents/{id} status=200 duration_ms=\(index % 97).412",
            metadata: [
                "request_id": "6f1c2a9e-\(10_000 + index % 90_000)-4b7d-9a51-3c8e2f0d7b64",
                "tenant": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                "method": "GET", "status": "200",
            ]
        )
    }
}

// Warm up (the client, the first failed connections, malloc's arenas), then take the baseline.
logLines(1_000, from: 0)
try await Task.sleep(for: .seconds(2))
let baseline = processMemoryMiB("VmRSS")
try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)  // resets VmHWM

var logged = 1_000
var loggedBytes = 0
let started = ContinuousClock.now
let slice = max(linesPerSecond / 100, 1)  // 10 ms worth of lines at a time
var samples: [(second: Int, rss: Double)] = []
while ContinuousClock.now - started < .seconds(seconds) {
    logLines(slice, from: logged)
    logged += slice
    let elapsed = ContinuousClock.now - started
    let due = Duration.seconds(Double(logged - 1_000) / Double(linesPerSecond))
    if due > elapsed { try await Task.sleep(for: due - elapsed) }
    let second = Int(elapsed.components.seconds)
    if samples.last?.second != second { samples.append((second, processMemoryMiB("VmRSS"))) }
}
let counters = pipeline.counters.snapshot
// One line as the handler makes it, for the sizes: what Loki counts and what the buffer counts.
let sample = Mutex<LokiRecord?>(nil)
let sampleSink = try LokiSink(options: options) { record in sample.withLock { $0 = record } }
Logger(label: "runway.access") { LokiLogHandler(label: $0, sink: sampleSink) }.info(
    "request completed: GET /v1/collections/{collection}/documents/{id} status=200 duration_ms=42.412",
    metadata: [
        "request_id": "6f1c2a9e-10000-4b7d-9a51-3c8e2f0d7b64", "tenant": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        "method": "GET", "status": "200",
    ]
)
let sampleRecord = sample.withLock { $0! }
loggedBytes = (logged - 1_000) * sampleRecord.size
let peak = processMemoryMiB("VmHWM")
let end = processMemoryMiB("VmRSS")

print("Loki down (connections refused on 127.0.0.1:\(port)) for \(seconds) s, buffer \(bufferMiB) MiB")
print(
    "logged \(logged - 1_000) lines, about \(loggedBytes >> 20) MiB as Loki counts them (\(sampleRecord.size) bytes each; "
        + "\(sampleRecord.bufferedBytes) bytes each as the buffer counts them)"
)
print(
    "pipeline: enqueued \(counters.enqueued), buffered \(counters.buffered), sent \(counters.sent), dropped "
        + counters.dropped.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
)
print(
    String(
        format: "resident memory: baseline %.1f MiB, peak %.1f MiB (+%.1f), end %.1f MiB (+%.1f)",
        baseline,
        peak,
        peak - baseline,
        end,
        end - baseline
    )
)
print("per second (MiB): " + samples.map { String(format: "%.0f", $0.rss) }.joined(separator: " "))
print("balanced: \(counters.isBalanced)")
running.cancel()
