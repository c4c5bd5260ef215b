import CostMeter
import Hummingbird
import HummingbirdCore

extension HTTPServerBuilder {
    /// Hummingbird's HTTP/1 server with every request — from the moment its head is parsed to the
    /// last byte of its response — on a metered executor of its own, billed to `defaultPayer`
    /// unless the request names its payer (``RequestFacts/bill(_:)``). Writing the response runs
    /// there too: a large search result costs its tenant, not the platform. What is left outside
    /// (reading and parsing the request) is shared among requests by ``CostAttribution``.
    static func metered(by meter: CostMeter, defaultPayer: Payer) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            HTTP1Channel(
                responder: { request, writer, channel in
                    var writer = Optional(consume writer)
                    let executor = meter.requestExecutor()
                    try await meter.run(on: executor, defaultPayer: defaultPayer) {
                        guard let writer = writer.take() else { return }
                        try await responder(request, writer, channel)
                    }
                }
            )
        }
    }
}
