import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwiftProtobuf
import Synchronization
import TelemetryTesting

@_spi(Benchmarks) @testable import TempoExport

/// A real HTTP server on 127.0.0.1 that plays Tempo's OTLP/HTTP receiver and misbehaves on
/// purpose: it answers each export from a script (status, `Retry-After`, body), then with
/// `fallback`. Every request is decoded with swift-protobuf's generated OTLP types.
final class MisbehavingTempo: Sendable {
    struct Reply: Sendable {
        var status: Int
        var retryAfter: String? = nil
        var body: [UInt8] = []

        static func partialSuccess(rejected: Int64, message: String) -> Reply {
            var response = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse()
            response.partialSuccess.rejectedSpans = rejected
            response.partialSuccess.errorMessage = message
            return Reply(status: 200, body: try! response.serializedBytes())
        }
    }

    struct Export: Sendable {
        var rawBody: [UInt8]
        var request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
        var tenant: String?
        var contentType: String?
        var contentEncoding: String?
        var status: Int

        var spanNames: [String] { request.resourceSpans.flatMap { $0.scopeSpans.flatMap { $0.spans.map(\.name) } } }
    }

    private let script: Mutex<[Reply]>
    private let fallback: Reply
    private let received = Mutex<[Export]>([])
    /// Every export as it is answered.
    let exports = Arrivals<Export>("export to the misbehaving Tempo")

    init(script: [Reply] = [], fallback: Reply = Reply(status: 200)) {
        self.script = Mutex(script)
        self.fallback = fallback
    }

    var all: [Export] { received.withLock { $0 } }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/traces") { request, _ in
            var body = try await request.body.collect(upTo: 64 << 20)
            let encoding = request.headers[.contentEncoding]
            if encoding == "gzip" { body = try Gzip.decompress(body) }
            let decoded = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(
                serializedBytes: Array(body.readableBytesView)
            )
            let reply = self.script.withLock { $0.isEmpty ? self.fallback : $0.removeFirst() }
            let export = Export(
                rawBody: Array(body.readableBytesView),
                request: decoded,
                tenant: request.headers[HTTPField.Name("X-Scope-OrgID")!],
                contentType: request.headers[.contentType],
                contentEncoding: encoding,
                status: reply.status
            )
            self.received.withLock { $0.append(export) }
            self.exports.record(export)
            var headers: HTTPFields = [.contentType: "application/x-protobuf"]
            if let retryAfter = reply.retryAfter { headers[.retryAfter] = retryAfter }
            return Response(status: .init(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
        }
        return router
    }
}
