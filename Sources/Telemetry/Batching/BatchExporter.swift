/// What an exporter says about one attempt to send a batch, in its backend's terms.
public enum ExportResult: Sendable, Equatable {
    /// The backend accepted the batch.
    case delivered
    /// The backend refused it for good (counted as dropped for `reason`, never retried).
    case rejected(DropReason)
    /// Try again later (429, 5xx, connection failures, timeouts), after `retryAfter` if the
    /// server said (`Retry-After` header text).
    case retryable(retryAfter: String?)
    /// The request was too large (413): the pipeline sends the halves separately.
    case tooLarge
    /// The backend accepted the batch but refused `rejected` of its entries for good (OTLP's
    /// `partial_success`): those are counted as dropped for `reason`, the rest as sent, and the
    /// batch is never retried.
    case partiallyDelivered(rejected: Int, reason: DropReason)
}

/// Sends batches to one backend. The pipeline owns batching, retries and accounting; the
/// exporter only encodes, sends once, and classifies the answer.
public protocol BatchExporter<Entry>: Sendable {
    associatedtype Entry: Sendable
    func export(_ batch: [Entry]) async -> ExportResult
}

/// How a ``BatchingPipeline`` buffers and sends.
public struct BatchingConfiguration: Sendable, Equatable {
    /// The `pipeline` label of its metrics (`logs`, `spans`, `ledger`); nil exports none.
    public var name: String?
    /// Bytes the buffer may hold; when full, the oldest entries are dropped (`buffer_full`).
    /// Default 8 MiB.
    public var maximumBufferBytes = 8 << 20
    /// Largest batch in bytes; reaching it sends at once. Default 1 MiB.
    public var maximumBatchBytes = 1 << 20
    /// Longest an entry waits before its batch is sent. Default 1 s.
    public var flushInterval: Duration = .seconds(1)
    /// How long the final flush may take at shutdown; what is left is dropped (`shutdown`).
    /// Default 5 s.
    public var shutdownDeadline: Duration = .seconds(5)
    public var retry = RetryPolicy()
    /// Entries the buffer may hold besides the byte bound; when full, the oldest are dropped
    /// (`buffer_full`). OTel's `maxQueueSize`. Default nil: bounded by bytes only.
    public var maximumBufferEntries: Int? = nil
    /// Largest batch in entries besides the byte bound; that many waiting sends at once.
    /// OTel's `maxExportBatchSize`. Default nil: bounded by bytes only.
    public var maximumBatchEntries: Int? = nil
    /// Exports in flight at once. Default 1 (each export waits for the previous one).
    public var maximumConcurrentExports = 1
    /// Longest one batch may take, retries and their waits included; a retry that would end
    /// later drops the batch (`export_timeout`). OTel's `exportTimeoutMillis`. Default nil: bounded
    /// by the retry policy only.
    public var exportTimeout: Duration? = nil

    public init() {}
}
