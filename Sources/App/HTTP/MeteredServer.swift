import CostMeter
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

extension HTTPServerBuilder {
    /// Hummingbird's HTTP/1 server with every request — from the moment its head is parsed to the
    /// last byte of its response — on a metered executor of its own, billed to `defaultPayer`
    /// unless the request names its payer (``RequestFacts/bill(_:)``). Writing the response runs
    /// there too: a large search result costs its tenant, not the platform. What is left outside
    /// (reading and parsing the request) is shared among requests by ``CostAttribution``.
    ///
    /// Each connection is held to `limits` (``ConnectionCap``, ``ConnectionDeadline``), counted
    /// in `counters`.
    static func metered(
        by meter: CostMeter,
        defaultPayer: Payer,
        limits: ConnectionLimits = ConnectionLimits(),
        counters: ConnectionCounters = ConnectionCounters()
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            LimitedHTTP1Channel(
                http1: HTTP1Channel(
                    responder: { request, writer, channel in
                        var writer = Optional(consume writer)
                        let executor = meter.requestExecutor()
                        try await meter.run(on: executor, defaultPayer: defaultPayer) {
                            guard let writer = writer.take() else { return }
                            try await responder(request, writer, channel)
                        }
                    },
                    configuration: .init(additionalChannelHandlers: [ConnectionDeadline(limits: limits, counters: counters)])
                ),
                limits: limits,
                counters: counters
            )
        }
    }
}

/// Hummingbird's HTTP/1 channel with ``ConnectionCap`` first in each connection's pipeline.
struct LimitedHTTP1Channel: ServerChildChannel {
    let http1: HTTP1Channel
    let limits: ConnectionLimits
    let counters: ConnectionCounters

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1Channel.Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(ConnectionCap(limit: limits.maxConnections, counters: counters))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return http1.setup(channel: channel, logger: logger)
    }

    func handle(value: HTTP1Channel.Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}
