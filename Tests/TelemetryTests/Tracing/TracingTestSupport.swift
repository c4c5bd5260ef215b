import Synchronization
import Telemetry
import Tracing

/// Collects what a tracer hands to its sink.
final class SpanCollector: Sendable {
    private let spans = Mutex<[FinishedSpan]>([])

    var all: [FinishedSpan] { spans.withLock { $0 } }
    var names: [String] { all.map(\.name) }

    func sink(_ span: FinishedSpan) { spans.withLock { $0.append(span) } }

    func makeTracer(_ configure: (inout TracerConfiguration) -> Void = { _ in }) -> RunwayTracer {
        var configuration = TracerConfiguration()
        configure(&configuration)
        return RunwayTracer(configuration: configuration) { span in self.sink(span) }
    }
}

/// An instant the test sets, so durations (and the tail decision) do not depend on real time.
struct TestInstant: TracerInstant {
    var nanosecondsSinceEpoch: UInt64

    static func milliseconds(_ value: UInt64) -> TestInstant {
        TestInstant(nanosecondsSinceEpoch: 1_764_158_400_000_000_000 + value * 1_000_000)
    }

    static func < (lhs: TestInstant, rhs: TestInstant) -> Bool { lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch }
}

/// A header dictionary as carrier for extract and inject.
struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}
