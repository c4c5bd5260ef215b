import CoreMetrics
import Foundation
import Synchronization
import Telemetry
import TelemetryBootstrap
import Tracing

/// Rate, errors and duration of requests by method, route template and status, through
/// swift-metrics:
///
/// - `runway_http_requests_total{method, route, status}`
/// - `runway_http_request_errors_total{method, route, status}` (5xx answers)
/// - `runway_http_request_duration_seconds{method, route, status}` (a histogram, 1 ms – 10 s)
///
/// Routes are templates (`/v1/collections/{collection}`), so the series stay few whatever the
/// traffic. Handles are made once per series and cached.
final class RequestMetrics: Sendable {
    private struct Key: Hashable {
        var method: String
        var route: String
        var status: Int
    }
    private struct Series: Sendable {
        let requests: Counter
        let errors: Counter?
        let duration: ExemplarHistogram.Series
    }

    private let factory: any MetricsFactory
    private let series = Mutex<[Key: Series]>([:])
    /// `runway_http_request_duration_seconds`, with the trace of a kept request per bucket.
    let duration = ExemplarHistogram(
        name: "runway_http_request_duration_seconds",
        help: "Request duration in seconds, by method, route template and status.",
        buckets: MetricsExposition.latencyBuckets
    )

    /// False records no exemplars (`RUNWAY_METRICS_EXEMPLARS=0`).
    let exemplars: Bool

    init(metrics: MetricsExposition, exemplars: Bool = true) {
        self.factory = metrics.factory
        self.exemplars = exemplars
        metrics.addCollector { [duration] text in duration.write(into: &text) }
    }

    /// Counts one request; `exemplar` is its trace id when its trace is kept (sampled, or an
    /// error the tracer keeps), so the latency panel can link to it.
    func record(method: String, route: String, status: Int, duration: Duration, exemplar: TraceID? = nil) {
        let key = Key(method: method, route: route, status: status)
        let handles = series.withLock { series in
            if let existing = series[key] { return existing }
            let dimensions = [("method", method), ("route", route), ("status", String(status))]
            let made = Series(
                requests: Counter(label: "runway_http_requests_total", dimensions: dimensions, factory: factory),
                errors: status >= 500
                    ? Counter(label: "runway_http_request_errors_total", dimensions: dimensions, factory: factory) : nil,
                duration: self.duration.series(labels: dimensions.map { "\($0.0)=\"\(Self.escaped($0.1))\"" }.joined(separator: ","))
            )
            series[key] = made
            return made
        }
        handles.requests.increment()
        handles.errors?.increment()
        self.duration.observe(duration, in: handles.duration, exemplar: exemplars ? exemplar : nil)
    }

    /// A label value as the text format writes it: backslash, quote and newline escaped.
    static func escaped(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
