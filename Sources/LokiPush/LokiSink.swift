import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Where ``LokiLogHandler``s put their records: renders the fixed stream labels once per level,
/// applies Loki's per-entry limits, and hands each record to the pipeline without waiting.
public final class LokiSink: Sendable {
    public struct Options: Sendable {
        /// Stream labels besides `level`, such as `service_name`, `env`, `instance`. Keep the set
        /// small and fixed: never request, tenant or trace ids (they go to structured metadata).
        public var labels: [String: String]
        /// Loki 2.9+ keeps metadata as structured metadata; older Loki ignores it, so `false`
        /// appends it to the line as logfmt instead.
        public var structuredMetadata = true
        /// Loki's default `max_line_size` (256 KB); longer lines are cut on a UTF-8 boundary.
        public var maximumLineBytes = 256 * 1024
        /// Loki's defaults: 64 KB and 128 entries of structured metadata per entry.
        public var maximumMetadataBytes = 64 * 1024
        public var maximumMetadataEntries = 128

        public init(labels: [String: String]) { self.labels = labels }
    }

    private let labelsByLevel: [Logger.Level: LokiLabels]
    private let options: Options
    private let enqueue: @Sendable (LokiRecord) -> Void
    private let now: @Sendable () -> Int64
    private let truncatedCount = Atomic<Int>(0)

    /// - Parameters:
    ///   - enqueue: takes a record and returns at once (a ``Telemetry/BatchingPipeline``'s enqueue).
    ///   - now: wall-clock time in nanoseconds since the epoch.
    public init(
        options: Options,
        now: @escaping @Sendable () -> Int64 = LokiSink.wallClockNanoseconds,
        enqueue: @escaping @Sendable (LokiRecord) -> Void
    ) throws(LokiLabelError) {
        var byLevel: [Logger.Level: LokiLabels] = [:]
        for level in Logger.Level.allCases {
            var labels = options.labels
            labels["level"] = level.rawValue
            byLevel[level] = try LokiLabels(labels)
        }
        self.labelsByLevel = byLevel
        self.options = options
        self.enqueue = enqueue
        self.now = now
    }

    /// Entries whose line or metadata was cut to fit Loki's limits.
    public var truncated: Int { truncatedCount.load(ordering: .relaxed) }

    func write(level: Logger.Level, message: String, metadata: [(name: String, value: String)]) {
        var line = message
        var pairs = metadata
        var cut = false
        if !options.structuredMetadata {
            for pair in pairs { line += " " + pair.name + "=" + Self.logfmtValue(pair.value) }
            pairs = []
        } else if pairs.count > options.maximumMetadataEntries
            || pairs.reduce(0, { $0 + $1.name.utf8.count + $1.value.utf8.count })
                > options.maximumMetadataBytes
        {
            var kept: [(name: String, value: String)] = []
            var bytes = 0
            for pair in pairs where kept.count < options.maximumMetadataEntries {
                let size = pair.name.utf8.count + pair.value.utf8.count
                if bytes + size > options.maximumMetadataBytes { continue }
                bytes += size
                kept.append(pair)
            }
            pairs = kept
            cut = true
        }
        if line.utf8.count > options.maximumLineBytes {
            line = Self.prefix(of: line, bytes: options.maximumLineBytes)
            cut = true
        }
        if cut { truncatedCount.add(1, ordering: .relaxed) }
        enqueue(LokiRecord(labels: labelsByLevel[level]!, entry: LokiEntry(timestampNanoseconds: now(), line: line, metadata: pairs)))
    }

    /// The longest prefix of `text` within `bytes` UTF-8 bytes that ends on a scalar boundary.
    static func prefix(of text: String, bytes: Int) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.count > bytes else { return text }
        var end = bytes
        while end > 0 && utf8[end] & 0xC0 == 0x80 { end -= 1 }
        return String(decoding: utf8[..<end], as: UTF8.self)
    }

    /// A logfmt value: bare when it is a plain token, else quoted the way Go quotes strings (as
    /// Go's logfmt encoders do, and as Loki's `logfmt` parser reads).
    static func logfmtValue(_ value: String) -> String {
        let plain =
            !value.isEmpty
            && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "=" && $0 != "\\" }
        if plain { return value }
        var quoted = ""
        LokiLabels.appendQuoted(value, to: &quoted)
        return quoted
    }

    public static let wallClockNanoseconds: @Sendable () -> Int64 = {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
