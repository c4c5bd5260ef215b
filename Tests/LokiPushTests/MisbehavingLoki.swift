import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwiftProtobuf
import Synchronization
import TelemetryTesting

@_spi(Benchmarks) @testable import LokiPush

/// A real HTTP server on 127.0.0.1 that plays Loki's push endpoint and misbehaves on purpose:
/// it answers each push from a script (status, `Retry-After`, body), then with `fallback`, unless
/// its Loki tenant (`X-Scope-OrgID`) has a reply of its own.
/// Every push is decoded with the swift-protobuf types generated from Loki's push.proto.
final class MisbehavingLoki: Sendable {
    struct Reply: Sendable {
        var status: Int
        var retryAfter: String? = nil
        var body: String = ""
    }

    struct Push: Sendable {
        var rawBody: [UInt8]
        var request: Logproto_PushRequest
        var tenant: String?
        var contentType: String?
        var status: Int

        var lines: [String] { request.streams.flatMap { $0.entries.map(\.line) } }
    }

    private let script: Mutex<[Reply]>
    private let decide: @Sendable (Logproto_PushRequest) -> Reply?
    private let fallback: Reply
    private let byTenant: [String: Reply]
    private let received = Mutex<[Push]>([])
    /// Every push as it is answered.
    let pushes = Arrivals<Push>("push to the misbehaving Loki")

    init(
        script: [Reply] = [],
        fallback: Reply = Reply(status: 204),
        byTenant: [String: Reply] = [:],
        decide: @escaping @Sendable (Logproto_PushRequest) -> Reply? = { _ in nil }
    ) {
        self.script = Mutex(script)
        self.fallback = fallback
        self.byTenant = byTenant
        self.decide = decide
    }

    var all: [Push] { received.withLock { $0 } }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/loki/api/v1/push") { request, _ in
            let body = try await request.body.collect(upTo: 64 << 20)
            let raw = try Snappy.uncompress(body)
            let decoded = try Logproto_PushRequest(serializedBytes: Array(raw.readableBytesView))
            let tenant = request.headers[HTTPField.Name("X-Scope-OrgID")!]
            let reply =
                tenant.flatMap { self.byTenant[$0] } ?? self.decide(decoded)
                ?? self.script.withLock { $0.isEmpty ? self.fallback : $0.removeFirst() }
            let push = Push(
                rawBody: Array(body.readableBytesView),
                request: decoded,
                tenant: tenant,
                contentType: request.headers[.contentType],
                status: reply.status
            )
            self.received.withLock { $0.append(push) }
            self.pushes.record(push)
            var headers: HTTPFields = [:]
            if let retryAfter = reply.retryAfter { headers[.retryAfter] = retryAfter }
            return Response(status: .init(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: reply.body)))
        }
        return router
    }
}
