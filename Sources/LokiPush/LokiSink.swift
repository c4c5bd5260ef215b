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

    /// What one call logged, as the handler got it. Rendered into a ``LokiEntry`` on the
    /// pipeline's task when the line is surely within Loki's limits (the usual case), else at once
    /// by ``entry(for:timestampNanoseconds:)``, which cuts it to them.
    package struct Line: Sendable {
        package var level: Logger.Level
        package var message: String
        package var metadata: Logger.Metadata
        package var logger: String
        package var source: String
        package var file: String
        package var line: UInt
        package var error: String?

        package init(
            level: Logger.Level,
            message: String,
            metadata: Logger.Metadata,
            logger: String,
            source: String,
            file: String,
            line: UInt,
            error: String? = nil
        ) {
            self.level = level
            self.message = message
            self.metadata = metadata
            self.logger = logger
            self.source = source
            self.file = file
            self.line = line
            self.error = error
        }
    }

    /// Stream labels by level, at ``index(of:)``.
    private let labelsByLevel: [LokiLabels]
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
        self.labelsByLevel = try Logger.Level.allCases.sorted { Self.index(of: $0) < Self.index(of: $1) }.map {
            level throws(LokiLabelError) in
            var labels = options.labels
            labels["level"] = level.rawValue
            return try LokiLabels(labels)
        }
        self.options = options
        self.enqueue = enqueue
        self.now = now
    }

    /// Entries whose line or metadata was cut to fit Loki's limits.
    public var truncated: Int { truncatedCount.load(ordering: .relaxed) }

    /// Hands `line` to the pipeline at the current time. A line that is surely within Loki's limits
    /// goes as it is, to be rendered on the pipeline's task; one that may need cutting, carries
    /// values that must be described now (a `stringConvertible` may change later), or goes to an
    /// older Loki as logfmt is rendered here.
    func write(_ line: Line) {
        let timestamp = now()
        let labels = labelsByLevel[Self.index(of: line.level)]
        if options.structuredMetadata, line.error == nil, line.message.utf8.count <= options.maximumLineBytes,
            line.metadata.count + 3 <= options.maximumMetadataEntries, let metadata = Self.plainMetadata(line.metadata),
            // The pairs the handler adds, and a renamed key's "m_" prefix, counted generously.
            metadata.bytes + 2 * line.metadata.count + line.logger.utf8.count + line.source.utf8.count + line.file.utf8.count
                + 60 <= options.maximumMetadataBytes
        {
            enqueue(
                LokiRecord(labels: labels, line: line, timestampNanoseconds: timestamp, metadataHeapBytes: metadata.heapBytes)
            )
        } else {
            enqueue(LokiRecord(labels: labels, entry: entry(for: line, timestampNanoseconds: timestamp)))
        }
    }

    /// In one pass over the metadata: its name and value bytes (Loki's measure) and the heap bytes
    /// of those strings (the buffer's); nil if a value is not a plain string.
    static func plainMetadata(_ metadata: Logger.Metadata) -> (bytes: Int, heapBytes: Int)? {
        var bytes = 0
        var heapBytes = 0
        for (key, value) in metadata {
            guard case .string(let text) = value else { return nil }
            let keyBytes = key.utf8.count
            let textBytes = text.utf8.count
            bytes += keyBytes + textBytes
            heapBytes += LokiRecord.heapBytes(utf8Count: keyBytes) + LokiRecord.heapBytes(utf8Count: textBytes)
        }
        return (bytes, heapBytes)
    }

    /// A level's place in ``labelsByLevel`` (a switch: no hashing on every call).
    static func index(of level: Logger.Level) -> Int {
        switch level {
        case .trace: 0
        case .debug: 1
        case .info: 2
        case .notice: 3
        case .warning: 4
        case .error: 5
        case .critical: 6
        }
    }

    /// `line` as Loki gets it: its metadata as structured metadata (or, for older Loki, logfmt in
    /// the line), cut to Loki's limits and counted in ``truncated`` if it had to be.
    func entry(for line: Line, timestampNanoseconds: Int64) -> LokiEntry {
        var text = line.message
        var pairs = LokiLogHandler.pairs(of: line)
        var cut = false
        if !options.structuredMetadata {
            for pair in pairs { text += " " + pair.name + "=" + Self.logfmtValue(pair.value) }
            pairs = []
        } else if pairs.count > options.maximumMetadataEntries
            || pairs.reduce(0, { $0 + $1.name.utf8.count + $1.value.utf8.count }) > options.maximumMetadataBytes
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
        if text.utf8.count > options.maximumLineBytes {
            text = Self.prefix(of: text, bytes: options.maximumLineBytes)
            cut = true
        }
        if cut { truncatedCount.add(1, ordering: .relaxed) }
        return LokiEntry(timestampNanoseconds: timestampNanoseconds, line: text, metadata: pairs)
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
