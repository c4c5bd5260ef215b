import Logging

/// One log record bound for Loki: its stream and its entry.
///
/// A record from ``LokiLogHandler`` carries the call's line as logged (``LokiSink/Line``) and is
/// rendered into its ``entry`` on the pipeline's task, where batches are encoded, so the caller
/// pays only for taking the line; rendering it always gives the same entry.
public struct LokiRecord: Sendable, Equatable {
    public var labels: LokiLabels
    private var content: Content
    /// The memory the record holds while it waits in a pipeline, estimated from its strings: the
    /// record in the buffer's ring, the line, the metadata's storage and each name and value. The
    /// pipeline's byte bound (`RUNWAY_LOG_BUFFER_BYTES`) counts this, so a buffer's memory stays
    /// within its setting however long Loki is down (Loki's own bytes are about a third of it).
    public private(set) var bufferedBytes: Int

    enum Content: Sendable {
        case entry(LokiEntry)
        /// A line the sink found surely within Loki's limits: rendering it never cuts anything.
        case line(LokiSink.Line, timestampNanoseconds: Int64)
    }

    public init(labels: LokiLabels, entry: LokiEntry) {
        self.labels = labels
        self.content = .entry(entry)
        self.bufferedBytes = Self.bufferedBytes(of: entry)
    }

    /// - Parameter metadataHeapBytes: the heap bytes of the metadata's names and values
    ///   (``heapBytes(_:)`` of each), measured by the caller as it checked them.
    init(labels: LokiLabels, line: LokiSink.Line, timestampNanoseconds: Int64, metadataHeapBytes: Int) {
        self.labels = labels
        self.content = .line(line, timestampNanoseconds: timestampNanoseconds)
        // The dictionary's storage: a header, then per bucket a key (16 bytes), a value (32) and a
        // bit, with at most 3/4 of the buckets used.
        var buckets = 1
        while buckets * 3 < line.metadata.count * 4 { buckets *= 2 }
        self.bufferedBytes =
            Self.slot + Self.heapBytes(line.message) + Self.allocation(64 + buckets * 48) + Self.heapBytes(line.logger)
            + Self.heapBytes(line.source) + metadataHeapBytes
    }

    /// The entry as Loki gets it.
    public var entry: LokiEntry {
        get {
            switch content {
            case .entry(let entry): entry
            case .line(let line, let timestamp):
                LokiEntry(timestampNanoseconds: timestamp, line: line.message, metadata: LokiLogHandler.pairs(of: line))
            }
        }
        set {
            content = .entry(newValue)
            bufferedBytes = Self.bufferedBytes(of: newValue)
        }
    }

    /// The value of metadata `name` as logged (before renaming), without rendering the entry.
    @usableFromInline
    func metadataValue(_ name: String) -> String? {
        switch content {
        case .entry(let entry): return entry.metadata.first { $0.name == name }?.value
        case .line(let line, _): return line.metadata[name].map(LokiLogHandler.render)
        }
    }

    public static func == (lhs: LokiRecord, rhs: LokiRecord) -> Bool {
        lhs.labels == rhs.labels && lhs.entry == rhs.entry
    }

    /// What Loki counts against its limits: the line plus structured metadata.
    public var size: Int {
        let entry = entry
        return entry.line.utf8.count + entry.metadata.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
    }

    /// The record's slot in the buffer and its size's, twice over: the buffer's storage grows by
    /// doubling.
    static let slot = 2 * (MemoryLayout<LokiRecord>.stride + MemoryLayout<Int>.stride)

    static func bufferedBytes(of entry: LokiEntry) -> Int {
        var bytes = slot + heapBytes(entry.line) + allocation(32 + entry.metadata.count * 32)
        for pair in entry.metadata { bytes += heapBytes(pair.name) + heapBytes(pair.value) }
        return bytes
    }

    /// A native string's heap storage: none up to 15 UTF-8 bytes (kept inline), else a header,
    /// the bytes and a terminating NUL.
    static func heapBytes(_ text: String) -> Int {
        heapBytes(utf8Count: text.utf8.count)
    }

    static func heapBytes(utf8Count count: Int) -> Int {
        count <= 15 ? 0 : allocation(32 + count + 1)
    }

    /// What malloc takes for `bytes`: its 8-byte chunk header, rounded up to 16.
    static func allocation(_ bytes: Int) -> Int { (bytes + 8 + 15) & ~15 }
}
