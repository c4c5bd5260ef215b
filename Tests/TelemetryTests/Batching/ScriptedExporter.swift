import Synchronization
import Telemetry
import TelemetryTesting

/// An exporter that answers from a script and reports every attempt.
final class ScriptedExporter: BatchExporter, Sendable {
    typealias Entry = Int

    private let script: Mutex<[ExportResult]>
    private let fallback: ExportResult
    private let delivered = Mutex<[Int]>([])
    /// Every batch as it is attempted.
    let attempts = Arrivals<[Int]>("export attempt")
    private let answer: @Sendable ([Int]) -> ExportResult?

    /// Answers with `script` in order, then `fallback`; `answer` may decide first.
    init(
        script: [ExportResult] = [],
        fallback: ExportResult = .delivered,
        answer: @escaping @Sendable ([Int]) -> ExportResult? = { _ in nil }
    ) {
        self.script = Mutex(script)
        self.fallback = fallback
        self.answer = answer
    }

    var deliveredEntries: [Int] { delivered.withLock { $0 } }

    func export(_ batch: [Int]) async -> ExportResult {
        attempts.record(batch)
        let result =
            answer(batch)
            ?? script.withLock { script in
                script.isEmpty ? fallback : script.removeFirst()
            }
        if result == .delivered { delivered.withLock { $0 += batch } }
        return result
    }
}
