import Benchmark
import Logging
@_spi(Benchmarks) import LokiPush
import NIOCore
import Synchronization

// Encoding a batch for Loki: group into streams, sort by time, write the `PushRequest` protobuf,
// compress with snappy. Each iteration handles one batch of `batchSize` typical lines (about 120
// bytes, 4 structured metadata pairs), so lines per second = batchSize × iterations per second.

let batchSize = 2_000

/// A batch as the pipeline hands it to the exporter: mostly `info`, every 20th `warning`, times
/// one microsecond apart in arrival order.
func typicalBatch(count: Int) -> [LokiRecord] {
    let labels = ["service_name": "runway", "env": "production", "instance": "runway-7f9c4d-2"]
    let info = try! LokiLabels(labels.merging(["level": "info"]) { $1 })
    let warning = try! LokiLabels(labels.merging(["level": "warning"]) { $1 })
    let start: Int64 = 1_795_000_000_000_000_000
    return (0..<count).map { index in
        let line = "request completed: GET /v1/collections/{collection}/documents/{id} status=200 duration_ms=\(index % 97).412"
        let metadata: [(name: String, value: String)] = [
            ("request_id", "6f1c2a9e-\(10_000 + index)-4b7d-9a51-3c8e2f0d7b64"),
            ("tenant", "1b4e28ba-2fa1-11d2-883f-0016d3cca427"),
            ("route", "/v1/collections/{collection}/documents/{id}"),
            ("trace_id", "4bf92f3577b34da6a3ce929d0e0e\(1000 + index % 9000)"),
        ]
        return LokiRecord(
            labels: index % 20 == 19 ? warning : info,
            entry: LokiEntry(timestampNanoseconds: start + Int64(index) * 1_000, line: line, metadata: metadata)
        )
    }
}

/// The same kind of batch as `LokiLogHandler` makes it: each record holds the call's line as
/// logged and is rendered (pairs sorted, location, limits) when the exporter encodes it.
func loggedBatch(count: Int) -> [LokiRecord] {
    let records = Mutex<[LokiRecord]>([])
    let options = LokiSink.Options(labels: ["service_name": "runway", "env": "production", "instance": "runway-7f9c4d-2"])
    let sink = try! LokiSink(options: options) { record in records.withLock { $0.append(record) } }
    let logger = Logger(label: "runway.access") { LokiLogHandler(label: $0, sink: sink) }
    for index in 0..<count {
        let metadata: Logger.Metadata = [
            "request_id": "6f1c2a9e-\(10_000 + index)-4b7d-9a51-3c8e2f0d7b64",
            "tenant": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            "route": "/v1/collections/{collection}/documents/{id}",
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e\(1000 + index % 9000)",
        ]
        let line: Logger.Message = "request completed: GET /v1/collections/{collection}/documents/{id} status=200"
        if index % 20 == 19 { logger.warning(line, metadata: metadata) } else { logger.info(line, metadata: metadata) }
    }
    return records.withLock { $0 }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(5),
        maxIterations: 100_000
    )
    let batch = typicalBatch(count: batchSize)
    let lineBytes = batch.map(\.entry.line.utf8.count).reduce(0, +) / batch.count
    let metadataBytes = batch.map { $0.size - $0.entry.line.utf8.count }.reduce(0, +) / batch.count
    print("batch: \(batchSize) lines, \(lineBytes) bytes of line and \(metadataBytes) of metadata each on average")

    Benchmark("Encode and snappy-compress a batch of \(batchSize) lines") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try LokiExporter.body(for: batch))
        }
    }

    // Records as the log handler makes them: rendering each (on the pipeline's task, off the
    // caller's) is part of the export path.
    let logged = loggedBatch(count: batchSize)
    Benchmark("Render, encode and snappy-compress \(batchSize) lines as logged") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try LokiExporter.body(for: logged))
        }
    }

    // The two halves, to see where the time goes.
    let streams = Dictionary(grouping: batch, by: \.labels).map { LokiStream(labels: $0.key, entries: $0.value.map(\.entry)) }
    Benchmark("Protobuf encode only (\(batchSize) lines, streams grouped)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(PushRequestEncoder.encode(streams))
        }
    }
    let encoded = PushRequestEncoder.encode(streams)
    print("PushRequest: \(encoded.readableBytes) bytes, snappy: \(try! Snappy.compress(encoded).readableBytes) bytes")
    Benchmark("Snappy compress only (\(encoded.readableBytes) bytes)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try Snappy.compress(encoded))
        }
    }
}
