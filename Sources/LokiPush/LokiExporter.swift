import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Telemetry

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

extension BatchingPipeline where Exporter == LokiExporter {
    /// Enqueues a record at the memory it holds (``LokiRecord/bufferedBytes``); never blocks.
    /// Inlinable, so that the caller runs it specialised for its clock.
    @inlinable
    public func enqueue(_ record: LokiRecord) {
        enqueue(record, size: record.bufferedBytes)
    }
}

/// Sends batches to Loki's push API (`POST /loki/api/v1/push`, protobuf + snappy) and classifies
/// the answer by Loki's contract: 2xx delivered; 400 final (the reason class recorded); 413 split;
/// 429, 5xx, connection failures and timeouts retried.
public struct LokiExporter: BatchExporter {
    public struct Configuration: Sendable {
        /// Loki's base URL (`LOKI_URL`), such as `http://127.0.0.1:3100`.
        public var baseURL: String
        /// `X-Scope-OrgID` (`LOKI_TENANT`); nil sends no header (single-tenant Loki).
        public var tenant: String?
        /// Longest wait for one push. Default 10 s.
        public var timeout: Duration = .seconds(10)

        public init(baseURL: String, tenant: String? = nil) {
            self.baseURL = baseURL
            self.tenant = tenant
        }

        var pushURL: String {
            (baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL) + "/loki/api/v1/push"
        }
    }

    let client: HTTPClient
    let configuration: Configuration

    public init(client: HTTPClient, configuration: Configuration) {
        self.client = client
        self.configuration = configuration
    }

    public func export(_ batch: [LokiRecord]) async -> ExportResult {
        let body: ByteBuffer
        do {
            body = try Self.body(for: batch)
        } catch {
            return .rejected(.rejected("encoding"))
        }
        var request = HTTPClientRequest(url: configuration.pushURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-protobuf")
        request.headers.add(name: "User-Agent", value: "runway-lokipush/1")
        if let tenant = configuration.tenant { request.headers.add(name: "X-Scope-OrgID", value: tenant) }
        request.body = .bytes(body)
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(configuration.timeout.nanoseconds))
            let status = Int(response.status.code)
            // Loki's error bodies are short text; read a bounded amount, never the whole thing.
            let text = (try? await response.body.collect(upTo: 64 << 10)).map { String(buffer: $0) } ?? ""
            switch status {
            case 200..<300:
                return .delivered
            case 413:
                return .tooLarge
            case 429, 500..<600:
                return .retryable(retryAfter: response.headers.first(name: "Retry-After"))
            case 400:
                return .rejected(.rejected(Self.reasonClass(of: text)))
            default:
                return .rejected(.rejected("http_\(status)"))
            }
        } catch {
            return .retryable(retryAfter: nil)
        }
    }

    /// The request body for `batch`: streams grouped and sorted, `PushRequest` protobuf, snappy.
    public static func body(for batch: [LokiRecord]) throws -> ByteBuffer {
        try Snappy.compress(PushRequestEncoder.encode(streams(batch)))
    }

    /// Groups records into streams (in order of first appearance), sorts each stream by time, and
    /// moves equal timestamps apart by a nanosecond so no two entries of a stream share one.
    /// Deterministic: a retried batch is encoded to the same bytes, which Loki de-duplicates.
    static func streams(_ batch: [LokiRecord]) -> [LokiStream] {
        // A batch has a handful of streams (one per level, say): a linear search of them costs
        // less than hashing each record's label string, and records of one handler share the
        // label string's storage, so comparing them is cheap.
        var streams: [LokiStream] = []
        var last = -1
        for record in batch {
            if last < 0 || streams[last].labels != record.labels {
                last = streams.firstIndex { $0.labels == record.labels } ?? -1
                if last < 0 {
                    streams.append(LokiStream(labels: record.labels, entries: []))
                    last = streams.count - 1
                }
            }
            streams[last].entries.append(record.entry)
        }
        for index in streams.indices { orderTimestamps(&streams[index].entries) }
        return streams
    }

    /// Sorts entries by time, keeping arrival order among equals, then makes times strictly
    /// increasing. Entries usually arrive in order: then nothing is sorted.
    static func orderTimestamps(_ entries: inout [LokiEntry]) {
        let inOrder = zip(entries, entries.dropFirst()).allSatisfy { $0.timestampNanoseconds <= $1.timestampNanoseconds }
        if !inOrder {
            entries = entries.enumerated().sorted {
                ($0.element.timestampNanoseconds, $0.offset) < ($1.element.timestampNanoseconds, $1.offset)
            }.map(\.element)
        }
        for index in entries.indices.dropFirst() where entries[index].timestampNanoseconds <= entries[index - 1].timestampNanoseconds {
            entries[index].timestampNanoseconds = entries[index - 1].timestampNanoseconds + 1
        }
    }

    /// Loki's validation reason for a 400, from its message text (`pkg/validation/validate.go`).
    static func reasonClass(of message: String) -> String {
        let text = message.lowercased()
        let classes: [(needle: String, reason: String)] = [
            ("max entry size", "line_too_long"), ("line too long", "line_too_long"),
            ("timestamp too old", "greater_than_max_sample_age"), ("timestamp too new", "too_far_in_future"),
            ("too far behind", "too_far_behind"), ("out of order", "out_of_order"),
            ("structured metadata", "structured_metadata"), ("label names", "max_label_names_per_series"),
            ("error parsing labels", "invalid_labels"), ("invalid label", "invalid_labels"),
            ("duplicate label", "duplicate_label_names"), ("missing labels", "missing_labels"),
        ]
        return classes.first { text.contains($0.needle) }?.reason ?? "other"
    }
}
