/// Why telemetry was dropped instead of sent. A struct over a string, so exporters can add
/// reasons (such as a server's rejection class) without breaking callers.
public struct DropReason: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    /// A finer class, such as the server's reason for a rejection (`line_too_long`).
    public let detail: String?

    public init(_ name: String, detail: String? = nil) {
        self.name = name
        self.detail = detail
    }

    public var description: String { detail.map { "\(name)(\($0))" } ?? name }

    /// Refused by the server for good, with the server's reason class.
    public static func rejected(_ detail: String) -> DropReason { DropReason("rejected", detail: detail) }

    /// The buffer was full; the oldest entries made room for new ones.
    public static let bufferFull = DropReason("buffer_full")
    /// The server refused the entries for good (a 4xx other than 429/413, or a partial rejection).
    public static let rejected = DropReason("rejected")
    /// An entry larger than any request the server accepts.
    public static let tooLarge = DropReason("too_large")
    /// Still buffered when the shutdown deadline passed.
    public static let shutdown = DropReason("shutdown")
    /// Every allowed retry failed.
    public static let retriesExhausted = DropReason("retries_exhausted")
    /// The next retry would have ended past the export timeout.
    public static let exportTimeout = DropReason("export_timeout")
}
