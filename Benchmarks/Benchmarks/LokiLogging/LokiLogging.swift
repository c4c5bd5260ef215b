import Benchmark
import Foundation
import Logging
import LokiPush
@_spi(Benchmarks) import Telemetry

// The caller's cost of one `logger.info` through `LokiLogHandler`: level check, metadata merge,
// the sink's limits, and the pipeline's enqueue (a lock and an append). The record is taken away
// by the pipeline's own task, as in the service.

/// Delivers every batch at once without encoding it: only the caller's side is measured.
struct DiscardingExporter: BatchExporter {
    func export(_ batch: [LokiRecord]) async -> ExportResult { .delivered }
}

/// Never delivers: Loki is down (the pipeline retries with backoff and drops the oldest).
struct DownExporter: BatchExporter {
    func export(_ batch: [LokiRecord]) async -> ExportResult { .retryable(retryAfter: nil) }
}

/// Takes each event and keeps nothing but its metadata's count (so the call is not optimised away).
struct FloorHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) { blackHole(event.metadata?.count ?? 0) }
}

func makeLogger<E: BatchExporter<LokiRecord>>(exporter: E) -> (Logger, BatchingPipeline<E, ContinuousClock>) {
    let pipeline = BatchingPipeline(exporter: exporter)
    let options = LokiSink.Options(labels: ["service_name": "runway", "env": "production", "instance": "runway-7f9c4d-2"])
    let sink = try! LokiSink(options: options) { record in pipeline.enqueue(record, size: record.bufferedBytes) }
    let logger = Logger(label: "runway.access") { LokiLogHandler(label: $0, sink: sink) }
    return (logger, pipeline)
}

/// A logger as `runway serve` makes it without `LOKI_URL`: JSON lines through a line writer (to
/// /dev/null), the request id in its metadata, trace and span ids from a metadata provider.
func makeJSONLogger() -> Logger {
    let devNull = open("/dev/null", O_WRONLY)
    let output = JSONLineOutput(writer: LineWriter(descriptor: devNull))
    let provider = Logger.MetadataProvider {
        ["trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"]
    }
    var logger = Logger(label: "runway") { label in
        JSONLogHandler(label: label, level: .info, output: output, metadataProvider: provider)
    }
    logger[metadataKey: "hb.request.id"] = "4d0af56b213ee0b10554c5d79d528c45"
    return logger
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(5),
        maxIterations: 1_000_000
    )

    let (logger, pipeline) = makeLogger(exporter: DiscardingExporter())
    let drain = Task { await pipeline.run() }
    _ = drain
    let requestID = "6f1c2a9e-1d2b-4b7d-9a51-3c8e2f0d7b64"
    let tenant = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    /// Run with --scale to read per-call figures.
    let thousandCallsPerSample = Benchmark.Configuration(scalingFactor: .kilo, maxIterations: 100_000)
    /// The measured call: an access line with four metadata pairs, built at the call as the app does.
    @inline(__always) func logRequestCompleted(_ logger: Logger) {
        logger.info(
            "request completed",
            metadata: ["request_id": "\(requestID)", "tenant": "\(tenant)", "method": "GET", "status": "200"]
        )
    }

    // One call per iteration: the distribution of single calls (the clock reads around each call
    // add some tens of nanoseconds).
    Benchmark("logger.info, 4 metadata pairs (one call per sample)") { benchmark in
        for _ in benchmark.scaledIterations {
            logRequestCompleted(logger)
        }
    }

    // 1,000 calls per sample: run with --scale to read per-call figures.
    Benchmark(
        "logger.info, 4 metadata pairs (1,000 calls per sample)",
        configuration: thousandCallsPerSample
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            logRequestCompleted(logger)
        }
    }

    // swift-log's own floor for the same call site: a handler that takes the event and keeps
    // nothing. The call's metadata dictionary and strings are built all the same.
    let floorLogger = Logger(label: "runway.access") { _ in FloorHandler() }
    Benchmark(
        "logger.info to a handler that keeps nothing (swift-log's floor, 1,000 calls per sample)",
        configuration: thousandCallsPerSample
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            logRequestCompleted(floorLogger)
        }
    }

    // The same call site's line as JSON on standard output (no `LOKI_URL`): rendered on the
    // caller's thread and copied into the line writer's buffer, whose thread writes it to
    // /dev/null here. The access line's shape: nine pairs at the call, the request id in the
    // logger's own metadata, a trace and span id from the metadata provider.
    let jsonLogger = makeJSONLogger()
    Benchmark(
        "JSON access line to a line writer, 9 + 1 + 2 metadata pairs (1,000 calls per sample)",
        configuration: thousandCallsPerSample
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            jsonLogger.info(
                "request",
                metadata: [
                    "method": "GET", "route": "/v1/collections/{collection}/documents/{id}", "status": "200",
                    "duration_ms": "0.412", "request_id": "\(requestID)", "tenant": "\(tenant)",
                    "app_cpu_ns": "96154", "db_cpu_ns": "81250", "cost_microusd": "0.001863",
                ]
            )
        }
    }

    // A call below the level: what every filtered debug line costs.
    Benchmark("logger.debug below the level (filtered)") { benchmark in
        for _ in benchmark.scaledIterations {
            logger.debug("cache lookup", metadata: ["request_id": "\(requestID)"])
        }
    }

    // Loki down: the buffer is full, so each call also drops (and frees) the oldest entry.
    let (downLogger, downPipeline) = makeLogger(exporter: DownExporter())
    let retrying = Task { await downPipeline.run() }
    _ = retrying
    Benchmark(
        "logger.info while Loki is down (buffer full, oldest dropped)",
        configuration: .init(
            setup: {
                for _ in 0..<80_000 { downLogger.info("request completed", metadata: ["request_id": "\(requestID)"]) }
            }
        )
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            logRequestCompleted(downLogger)
        }
    }
}
