import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Telemetry

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
    @_spi(Benchmarks) public static func body(for batch: [LokiRecord]) throws -> ByteBuffer {
        try Snappy.compress(PushRequestEncoder.encode(streams(batch)))
    }
}
