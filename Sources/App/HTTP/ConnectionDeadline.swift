import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client is too slow: a request head not complete within the header
/// timeout (a new connection) or the idle timeout (after a response), or a body not complete
/// within the body timeout. After the HTTP decoder, so it sees whole request parts.
final class ConnectionDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What the client was late with.
    enum Phase: String, CaseIterable, Sendable {
        case header, idle, body
    }

    private let limits: ConnectionLimits
    private let counters: ConnectionCounters
    /// What the client is to finish, and by when; nil: nothing is awaited of it.
    private var deadline: (phase: Phase, at: NIODeadline)?
    /// The one timer of the connection, when one is scheduled. Moving the deadline does not
    /// reschedule it (a keep-alive connection moves it twice per request): when it fires before
    /// the deadline it schedules itself again for the deadline.
    private var timer: Scheduled<Void>?
    /// Reading a request's body (between its head and its end).
    private var readingBody = false
    /// Requests whose head arrived and whose response has not ended (more than one if pipelined).
    private var unanswered = 0

    init(limits: ConnectionLimits, counters: ConnectionCounters) {
        self.limits = limits
        self.counters = counters
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(.header, context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if deadline == nil { arm(.header, context: context) }
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { stop() }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            unanswered += 1
            readingBody = true
            arm(.body, context: context)
        case .body:
            break
        case .end:
            readingBody = false
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            unanswered = max(0, unanswered - 1)
            if unanswered == 0, !readingBody { arm(.idle, context: context) }
        }
        context.write(data, promise: promise)
    }

    private func arm(_ phase: Phase, context: ChannelHandlerContext) {
        let limit =
            switch phase {
            case .header: limits.headerTimeout
            case .idle: limits.idleTimeout
            case .body: limits.bodyTimeout
            }
        let at = context.eventLoop.now + TimeAmount(limit)
        deadline = (phase, at)
        if timer == nil { schedule(at: at, context: context) }
    }

    private func schedule(at: NIODeadline, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: at) {
            let (handler, context) = loopBound.value
            handler.fire(context: context)
        }
    }

    private func fire(context: ChannelHandlerContext) {
        timer = nil
        guard let deadline else { return }
        guard context.eventLoop.now >= deadline.at else {
            schedule(at: deadline.at, context: context)
            return
        }
        self.deadline = nil
        counters.recordTimeout(deadline.phase)
        context.close(promise: nil)
    }

    private func stop() {
        deadline = nil
        timer?.cancel()
        timer = nil
    }
}
