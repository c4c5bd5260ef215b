import CoreMetrics
import Prometheus
import Synchronization
@_spi(Benchmarks) import Telemetry

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The Prometheus side of swift-metrics: a registry, the factory that fills it, and the text
/// that `/metrics` serves (the registry's series plus the process's CPU and memory).
package final class MetricsExposition: Sendable {
    /// Latency buckets fine enough to read a P99 anywhere from 1 ms to 10 s.
    package static let latencyBuckets: [Duration] = [
        1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400, 500, 600, 800,
        1000, 1250, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000, 10000,
    ].map { .milliseconds($0) }

    /// Timers that get ``latencyBuckets`` (others get swift-prometheus's defaults).
    package static let latencyTimers = ["runway_http_request_duration_seconds", "runway_telemetry_export_duration_seconds"]

    package let registry: PrometheusCollectorRegistry
    package let factory: PrometheusMetricsFactory
    private let process = ProcessMetrics()
    private let collectors = Mutex<[@Sendable (inout MetricsText) -> Void]>([])

    package init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        for name in Self.latencyTimers { factory.durationHistogramBuckets[name] = Self.latencyBuckets }
        self.factory = factory
    }

    /// The Prometheus text exposition format (version 0.0.4).
    package static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    /// OpenMetrics 1.0, with exemplars: what a Prometheus with exemplar storage asks for.
    package static let openMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

    /// Whether a scraper's `Accept` header asks for OpenMetrics.
    package static func prefersOpenMetrics(accept: String?) -> Bool {
        accept?.contains("application/openmetrics-text") ?? false
    }

    /// Adds series read at each scrape from a snapshot (totals kept elsewhere, such as cost).
    package func addCollector(_ collect: @escaping @Sendable (inout MetricsText) -> Void) {
        collectors.withLock { $0.append(collect) }
    }

    /// Everything `/metrics` shows, rendered now: in the Prometheus text format, or in
    /// OpenMetrics with exemplars.
    package func render(openMetrics: Bool = false) -> [UInt8] {
        var text = MetricsText()
        text.openMetrics = openMetrics
        text.bytes.reserveCapacity(64 << 10)
        registry.emit(into: &text.bytes)
        process.emit(into: &text)
        for collect in collectors.withLock({ $0 }) { collect(&text) }
        return openMetrics ? Self.openMetrics(fromPrometheus: text.bytes) : text.bytes
    }

    /// The same families in OpenMetrics: a counter's family is named without `_total` and its
    /// samples with it, `untyped` is `unknown`, and the text ends with `# EOF`. Exemplars (after a
    /// ` # `) pass through as written.
    static func openMetrics(fromPrometheus bytes: [UInt8]) -> [UInt8] {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        var counters = Set<Substring>()
        for line in lines where line.hasPrefix("# TYPE ") && line.hasSuffix(" counter") {
            counters.insert(line.dropFirst(7).dropLast(8))
        }
        func family(_ name: Substring) -> Substring { name.hasSuffix("_total") ? name.dropLast(6) : name }
        var output = ""
        output.reserveCapacity(bytes.count + 64)
        for line in lines {
            if line.hasPrefix("# TYPE ") || line.hasPrefix("# HELP ") {
                let rest = line.dropFirst(7)
                let name = rest.prefix { $0 != " " }
                var tail = rest.dropFirst(name.count)
                if tail == " untyped" { tail = " unknown" }
                output += line.prefix(7) + (counters.contains(name) ? family(name) : name) + tail + "\n"
                continue
            }
            let name = line.prefix { $0 != "{" && $0 != " " }
            if counters.contains(name), !name.hasSuffix("_total") {
                output += name + "_total" + line.dropFirst(name.count) + "\n"
            } else {
                output += line + "\n"
            }
        }
        output += "# EOF\n"
        return Array(output.utf8)
    }
}

/// Prometheus text format written by hand, for series read from snapshots at scrape time.
package struct MetricsText: Sendable {
    package var bytes: [UInt8] = []
    /// Rendering OpenMetrics: families that have exemplars write them.
    package var openMetrics = false

    /// One metric family: its HELP and TYPE lines and a sample per label set.
    package mutating func family(_ name: String, type: String, help: String, samples: [(labels: String, value: Double)]) {
        bytes.append(contentsOf: "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n".utf8)
        for sample in samples { bytes.append(contentsOf: "\(name)\(sample.labels) \(sample.value)\n".utf8) }
    }
}

/// The process's own CPU and memory, in the standard `process_*` names that Prometheus's client
/// libraries use, read from the kernel at each scrape.
struct ProcessMetrics: Sendable {
    let startTimeSeconds: Double?

    init() {
        startTimeSeconds = Self.startTimeSeconds()
    }

    func emit(into text: inout MetricsText) {
        func write(_ name: String, _ type: String, _ help: String, _ value: Double, into text: inout MetricsText) {
            text.family(name, type: type, help: help, samples: [("", value)])
        }
        var cpu = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu)
        let cpuSeconds = Double(cpu.tv_sec) + Double(cpu.tv_nsec) / 1e9
        write("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpuSeconds, into: &text)
        if let statm = Self.read("/proc/self/statm")?.split(separator: " "), statm.count > 1,
            let pages = Double(statm[0]), let resident = Double(statm[1])
        {
            let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
            write("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", resident * pageSize, into: &text)
            write("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", pages * pageSize, into: &text)
        }
        if let fds = Self.countEntries("/proc/self/fd") {
            write("process_open_fds", "gauge", "Number of open file descriptors.", Double(fds), into: &text)
        }
        if let startTimeSeconds {
            write(
                "process_start_time_seconds",
                "gauge",
                "Start time of the process since unix epoch in seconds.",
                startTimeSeconds,
                into: &text
            )
        }
    }

    /// Boot time (`btime` of /proc/stat) plus the process's start in clock ticks after boot
    /// (field 22 of /proc/self/stat).
    static func startTimeSeconds() -> Double? {
        guard let stat = read("/proc/self/stat"), let close = stat.lastIndex(of: ")"),
            let boot = read("/proc/stat")?.split(separator: "\n").first(where: { $0.hasPrefix("btime ") })
        else { return nil }
        // Fields after the command name start with field 3 (state); starttime is field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]), let bootTime = Double(boot.dropFirst(6)) else { return nil }
        return bootTime + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func countEntries(_ path: String) -> Int? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [0x2E] && name != [0x2E, 0x2E] { count += 1 }
        }
        return max(0, count - 1)  // the directory handle itself is one of them
    }
}

extension TracerCounters.Snapshot {
    /// What became of ended spans (`runway_tracer_spans_total{outcome}`), and traces the tail
    /// decision kept (`runway_tracer_traces_kept_total{reason}`). The spans handed on are the
    /// `spans` pipeline's `enqueued`.
    func writeMetrics(into text: inout MetricsText) {
        text.family(
            "runway_tracer_spans_total",
            type: "counter",
            help: "Ended spans by outcome: exported (handed to the span pipeline), discarded_by_tail, dropped_held_full.",
            samples: [
                (#"{outcome="exported"}"#, Double(handedToSink)), (#"{outcome="discarded_by_tail"}"#, Double(discardedByTail)),
                (#"{outcome="dropped_held_full"}"#, Double(droppedHeldFull)),
            ]
        )
        text.family(
            "runway_tracer_spans_held",
            type: "gauge",
            help: "Spans held until their local root ends.",
            samples: [("", Double(held))]
        )
        text.family(
            "runway_tracer_traces_kept_total",
            type: "counter",
            help: "Traces the tail decision kept whatever the sample ratio: slow root, or an error.",
            samples: [(#"{reason="slow"}"#, Double(tracesKeptSlow)), (#"{reason="error"}"#, Double(tracesKeptError))]
        )
    }
}

extension LineWriter.Counts {
    /// Log lines on standard output (when no `LOKI_URL` is set): written, or dropped because
    /// stdout was stalled (`dropped_full`) or closed (`dropped_closed`).
    func writeMetrics(into text: inout MetricsText) {
        text.family(
            "runway_log_stdout_lines_total",
            type: "counter",
            help:
                "Log lines for standard output by outcome: written, dropped_full (stdout stalled), dropped_closed (stdout closed or failed).",
            samples: [
                (#"{outcome="written"}"#, Double(written)), (#"{outcome="dropped_full"}"#, Double(droppedFull)),
                (#"{outcome="dropped_closed"}"#, Double(droppedClosed)),
            ]
        )
        text.family(
            "runway_log_stdout_buffered",
            type: "gauge",
            help: "Log lines waiting to be written to standard output.",
            samples: [("", Double(buffered))]
        )
    }
}
