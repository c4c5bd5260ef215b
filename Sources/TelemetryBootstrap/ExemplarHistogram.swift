import Synchronization
import Telemetry

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A histogram family whose buckets remember an exemplar: the trace of the latest kept (sampled)
/// observation in each bucket of each series, so a point on a latency panel links to a trace
/// behind it. Memory is bounded: one exemplar per bucket and series, replaced, never appended.
///
/// Rendered in the Prometheus text format without exemplars, and with them in OpenMetrics
/// (`# {trace_id="…"} value timestamp` after a bucket's count) for a scraper that asks for it.
package final class ExemplarHistogram: Sendable {
    /// One label set's counts; get it once with ``series(labels:)`` and keep it.
    package final class Series: Sendable {
        struct State {
            /// Per bucket (not cumulative), the last one for above the highest bound.
            var counts: [Int64]
            var sumNanoseconds: Int64 = 0
            var exemplars: [Exemplar?]
        }

        struct Exemplar {
            var traceID: TraceID
            var nanoseconds: Int64
            var timestamp: Int64
        }

        let labels: String
        let state: Mutex<State>

        init(labels: String, buckets: Int) {
            self.labels = labels
            state = Mutex(State(counts: Array(repeating: 0, count: buckets + 1), exemplars: Array(repeating: nil, count: buckets + 1)))
        }
    }

    package let name: String
    package let help: String
    private let bounds: [Int64]
    private let boundLabels: [String]
    private let series = Mutex<[String: Series]>([:])

    /// - Parameter buckets: upper bounds, ascending.
    package init(name: String, help: String, buckets: [Duration]) {
        self.name = name
        self.help = help
        bounds = buckets.map(\.nanoseconds)
        boundLabels = buckets.map { "\(Double($0.nanoseconds) / 1e9)" } + ["+Inf"]
    }

    /// The series of `labels` (rendered: `method="GET",route="/x"`), created on first use.
    package func series(labels: String) -> Series {
        series.withLock { series in
            if let existing = series[labels] { return existing }
            let made = Series(labels: labels, buckets: bounds.count)
            series[labels] = made
            return made
        }
    }

    /// Counts `duration` in `series`; with `exemplar`, it becomes its bucket's exemplar.
    package func observe(_ duration: Duration, in series: Series, exemplar: TraceID? = nil) {
        let nanoseconds = duration.nanoseconds
        var low = 0
        var high = bounds.count
        while low < high {
            let middle = (low + high) / 2
            if bounds[middle] < nanoseconds { low = middle + 1 } else { high = middle }
        }
        let timestamp = exemplar == nil ? 0 : Self.now()
        series.state.withLock { state in
            state.counts[low] += 1
            state.sumNanoseconds += nanoseconds
            if let exemplar { state.exemplars[low] = .init(traceID: exemplar, nanoseconds: nanoseconds, timestamp: timestamp) }
        }
    }

    /// Writes the family: buckets (cumulative), sum and count per series; exemplars in OpenMetrics.
    package func write(into text: inout MetricsText) {
        let all = series.withLock { $0.values.sorted { $0.labels < $1.labels } }
        guard !all.isEmpty else { return }
        text.bytes.append(contentsOf: "# HELP \(name) \(help)\n# TYPE \(name) histogram\n".utf8)
        for series in all {
            let state = series.state.withLock { $0 }
            let prefix = series.labels.isEmpty ? "" : series.labels + ","
            var cumulative: Int64 = 0
            for (index, count) in state.counts.enumerated() {
                cumulative += count
                var line = "\(name)_bucket{\(prefix)le=\"\(boundLabels[index])\"} \(cumulative)"
                if text.openMetrics, let exemplar = state.exemplars[index] {
                    let seconds = Double(exemplar.nanoseconds) / 1e9
                    let timestamp = Double(exemplar.timestamp) / 1e9
                    line += " # {trace_id=\"\(exemplar.traceID)\"} \(seconds) \(timestamp)"
                }
                text.bytes.append(contentsOf: (line + "\n").utf8)
            }
            let braces = series.labels.isEmpty ? "" : "{\(series.labels)}"
            text.bytes.append(contentsOf: "\(name)_sum\(braces) \(Double(state.sumNanoseconds) / 1e9)\n".utf8)
            text.bytes.append(contentsOf: "\(name)_count\(braces) \(cumulative)\n".utf8)
        }
    }

    private static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
