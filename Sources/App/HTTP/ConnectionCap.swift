import NIOCore
import NIOHTTPTypes
import Synchronization

/// First in a connection's pipeline: counts it open, and past ``ConnectionLimits/maxConnections``
/// answers a canned 503 with `Connection: close` and closes it before anything is parsed.
final class ConnectionCap: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let refusal = ByteBuffer(
        string: "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nRetry-After: 1\r\nConnection: close\r\n"
            + "Content-Length: \(refusalBody.utf8.count)\r\n\r\n" + refusalBody
    )
    /// The problem document of ``Problem/unavailable(_:)``, written out: nothing is parsed yet.
    private static let refusalBody =
        #"{"type":"urn:runway:problem:unavailable","title":"Service unavailable","status":503,"detail":"the server holds as many connections as it allows; retry shortly"}"#

    private let limit: Int
    private let counters: ConnectionCounters
    private var counted = false
    private var refused = false

    init(limit: Int, counters: ConnectionCounters) {
        self.limit = limit
        self.counters = counters
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { release() }

    private func release() {
        guard counted else { return }
        counted = false
        counters.open.subtract(1, ordering: .relaxed)
    }

    private func admit(context: ChannelHandlerContext) {
        guard !counted else { return }
        counted = true
        guard counters.open.add(1, ordering: .relaxed).newValue > limit else { return }
        refused = true
        counters.refused.add(1, ordering: .relaxed)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(Self.refusal)).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A refused connection's request is never parsed.
        guard !refused else { return }
        context.fireChannelRead(data)
    }
}
