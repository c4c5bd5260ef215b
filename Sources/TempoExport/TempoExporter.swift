import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Telemetry
import Tracing

/// Sends batches of spans to Tempo over OTLP/HTTP (`POST {TEMPO_URL}/v1/traces`,
/// `application/x-protobuf`, optionally gzip) and classifies the answer exactly per the OTLP
/// specification:
///
/// - 2xx: delivered; a `partial_success` with `rejected_spans` is never retried and those spans
///   are counted as dropped (`rejected(partial_success)`).
/// - 429, 502, 503, 504, connection failures, disconnects and timeouts: retryable, honouring
///   `Retry-After` (seconds or HTTP-date; the pipeline's ``RetryPolicy`` caps it).
/// - 413: the pipeline splits the batch; a single span that is still too large is dropped.
/// - every other 4xx and 5xx: final, dropped once with `rejected(http_<status>)`. Older Tempo
///   answers 500 when it rate-limits, when a trace is too large and when the tenant is missing;
///   those get their own detail (`http_500_rate_limited`, `http_500_trace_too_large`,
///   `http_500_tenant_missing`) and are never retried.
///
/// Requests are capped at ``Configuration/maximumRequestBytes`` before compression (a larger
/// batch is split by the pipeline), responses read up to ``Configuration/maximumResponseBytes``.
public struct TempoExporter: BatchExporter {
    public typealias Entry = FinishedSpan

    public struct Configuration: Sendable, Equatable {
        /// Tempo's OTLP/HTTP base URL (`TEMPO_URL`), such as `http://127.0.0.1:4318`;
        /// `/v1/traces` is appended.
        public var baseURL: String
        /// `X-Scope-OrgID` (`TEMPO_TENANT`); nil sends no header (single-tenant Tempo).
        public var tenant: String?
        /// Longest wait for one request (`OTEL_EXPORTER_OTLP_TIMEOUT`, ms). Default 10 s.
        public var timeout: Duration = .seconds(10)
        /// gzip request bodies (`OTEL_EXPORTER_OTLP_COMPRESSION=gzip`). Default false: on
        /// loopback or in one zone the CPU costs more than the bytes.
        public var gzip = false
        /// Largest request body before compression; larger batches are split. Default 64 MiB
        /// (the OTLP recommendation).
        public var maximumRequestBytes = 64 << 20
        /// Most response bytes read. Default 4 MiB (the OTLP recommendation).
        public var maximumResponseBytes = 4 << 20

        public init(baseURL: String, tenant: String? = nil) {
            self.baseURL = baseURL
            self.tenant = tenant
        }

        var tracesURL: String {
            (baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL) + "/v1/traces"
        }
    }

    let client: HTTPClient
    package let configuration: Configuration
    let encoder: TraceRequestEncoder

    /// - Parameter client: should not trace its own requests (`TelemetrySystem.bootstrap` makes one with
    ///   tracing off). Requests are sent with tracing suppressed for the ``RunwayTracer`` either way.
    public init(client: HTTPClient, configuration: Configuration, resource: TempoResource) {
        self.client = client
        self.configuration = configuration
        self.encoder = TraceRequestEncoder(resource: resource)
    }

    /// The pipeline size of a span: its exact encoded size in the request.
    public static func size(of span: FinishedSpan) -> Int {
        3 + TraceRequestEncoder.spanSize(span)
    }

    public func export(_ batch: [FinishedSpan]) async -> ExportResult {
        guard !batch.isEmpty else { return .delivered }
        var body = encoder.encode(batch)
        guard body.readableBytes <= configuration.maximumRequestBytes else { return .tooLarge }
        var request = HTTPClientRequest(url: configuration.tracesURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-protobuf")
        request.headers.add(name: "User-Agent", value: "runway-tempoexport/1")
        if let tenant = configuration.tenant { request.headers.add(name: "X-Scope-OrgID", value: tenant) }
        if configuration.gzip {
            do {
                body = try Gzip.compress(body)
            } catch {
                return .rejected(.rejected("encoding"))
            }
            request.headers.add(name: "Content-Encoding", value: "gzip")
        }
        request.body = .bytes(body)
        return await RunwayTracer.withTracingSuppressed {
            do {
                let response = try await client.execute(request, timeout: .nanoseconds(configuration.timeout.nanoseconds))
                return await classify(response, batchCount: batch.count)
            } catch {
                return .retryable(retryAfter: nil)
            }
        }
    }

    private func classify(_ response: HTTPClientResponse, batchCount: Int) async -> ExportResult {
        let status = Int(response.status.code)
        switch status {
        case 200..<300:
            // A success whose body is too large or malformed is still a success.
            guard let body = try? await response.body.collect(upTo: configuration.maximumResponseBytes),
                let answer = ExportTraceServiceResponse(decoding: body), answer.rejectedSpans > 0
            else { return .delivered }
            return .partiallyDelivered(
                rejected: Int(min(answer.rejectedSpans, Int64(batchCount))),
                reason: .rejected("partial_success")
            )
        case 429, 502, 503, 504:
            return .retryable(retryAfter: response.headers.first(name: "Retry-After"))
        case 413:
            return .tooLarge
        default:
            let text = (try? await response.body.collect(upTo: min(64 << 10, configuration.maximumResponseBytes))).map {
                String(decoding: $0.readableBytesView, as: UTF8.self)
            }
            return .rejected(.rejected(Self.reasonDetail(status: status, body: text ?? "")))
        }
    }

    /// `http_<status>`, refined for the 500s older Tempo sends instead of 429 or 400 (from the
    /// `google.rpc.Status` message or text it answers with).
    static func reasonDetail(status: Int, body: String) -> String {
        guard status == 500 else { return "http_\(status)" }
        let text = body.lowercased()
        if text.contains("rate_limited") || text.contains("rate limit") || text.contains("ingestion rate") {
            return "http_500_rate_limited"
        }
        if text.contains("trace_too_large") || text.contains("too large") || text.contains("max_bytes_per_trace") {
            return "http_500_trace_too_large"
        }
        if text.contains("no org id") || text.contains("orgid") || text.contains("tenant") {
            return "http_500_tenant_missing"
        }
        return "http_500"
    }
}

extension BatchingPipeline where Exporter == TempoExporter {
    /// Enqueues a finished span at its encoded size; never blocks. Use as the tracer's sink.
    /// Inlinable, so that the caller runs it specialised for its clock.
    @inlinable
    public func enqueue(_ span: FinishedSpan) {
        enqueue(span, size: TempoExporter.size(of: span))
    }
}
