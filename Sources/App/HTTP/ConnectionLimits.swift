import NIOCore
import NIOHTTPTypes
import Synchronization
import TelemetryBootstrap

/// How long a client may take, and how many connections a listener holds, so that clients that
/// connect and never finish (a byte of header a second, or nothing at all) cannot hold the
/// listener's memory and file descriptors for ever.
struct ConnectionLimits: Sendable, Equatable {
    /// Open connections past which a new one is answered 503 and closed. `RUNWAY_MAX_CONNECTIONS`,
    /// default 4096.
    var maxConnections = 4096
    /// From a connection's opening to its first request's complete head. `RUNWAY_HEADER_TIMEOUT_MS`,
    /// default 10000.
    var headerTimeout: Duration = .seconds(10)
    /// From a response's end to the complete head of the connection's next request (keep-alive).
    /// `RUNWAY_IDLE_TIMEOUT_MS`, default 60000.
    var idleTimeout: Duration = .seconds(60)
    /// From a request's head to the end of its body. `RUNWAY_BODY_TIMEOUT_MS`, default 30000.
    var bodyTimeout: Duration = .seconds(30)
}

/// One listener's connections: how many are open, and how many were refused or closed by a limit.
final class ConnectionCounters: Sendable {
    let open = Atomic<Int>(0)
    let refused = Atomic<Int>(0)
    private let lateHeaders = Atomic<Int>(0)
    private let idleTimeouts = Atomic<Int>(0)
    private let lateBodies = Atomic<Int>(0)

    /// Connections closed because their client was late with `phase`.
    func timedOut(_ phase: ConnectionDeadline.Phase) -> Int {
        switch phase {
        case .header: lateHeaders.load(ordering: .relaxed)
        case .idle: idleTimeouts.load(ordering: .relaxed)
        case .body: lateBodies.load(ordering: .relaxed)
        }
    }

    func recordTimeout(_ phase: ConnectionDeadline.Phase) {
        switch phase {
        case .header: lateHeaders.add(1, ordering: .relaxed)
        case .idle: idleTimeouts.add(1, ordering: .relaxed)
        case .body: lateBodies.add(1, ordering: .relaxed)
        }
    }

    /// The listeners' connection series, one family each with a `listener` label.
    static func writeMetrics(_ listeners: KeyValuePairs<String, ConnectionCounters>, into text: inout MetricsText) {
        text.family(
            "runway_http_connections",
            type: "gauge",
            help: "Open connections of a listener.",
            samples: listeners.map { listener, counters in
                (#"{listener="\#(listener)"}"#, Double(counters.open.load(ordering: .relaxed)))
            }
        )
        text.family(
            "runway_http_connections_closed_total",
            type: "counter",
            help:
                "Connections closed by a limit: refused (RUNWAY_MAX_CONNECTIONS), or a client too slow with its header, body or next request.",
            samples: listeners.flatMap { listener, counters in
                [(#"{listener="\#(listener)",reason="refused"}"#, Double(counters.refused.load(ordering: .relaxed)))]
                    + ConnectionDeadline.Phase.allCases.map { phase in
                        (#"{listener="\#(listener)",reason="\#(phase.rawValue)"}"#, Double(counters.timedOut(phase)))
                    }
            }
        )
    }
}

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
