import CostMeter
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Runway's HTTP/1 connections: Hummingbird's pipeline (SwiftNIO's HTTP/1 codec, the HTTP types
/// codec, Hummingbird's connection state for graceful shutdown), with each request handed to the
/// router's responder by a channel handler (``RequestHandler``) instead of through
/// `NIOAsyncChannel`. A request costs one task, started on its own metered executor on the
/// connection's event loop when its head and body are read, and its response is written from
/// that task straight into the pipeline: no per-connection task resumed for each request part,
/// no async writer, no hop between executors to start or end a request.
///
/// The body is read before the request starts, so a route's `collect(upTo:)` never waits; up to
/// `maxBodyBytes`. A body over that (or declared over it) starts the request at once with a body
/// whose reading throws `NIOTooManyBytesError`, as a `collect(upTo:)` over its limit does, and the
/// rest of it is read and dropped: no route sees part of a body as if it were whole.
/// Pipelined requests are answered in order; past a bound on what waits, the connection stops
/// reading until its requests are answered.
struct RequestChannel: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let channel: any Channel
    }

    let responder: any HTTPResponder<AppRequestContext>
    let meter: CostMeter
    let defaultPayer: Payer
    let serverName: String?
    let maxBodyBytes: Int
    let limits: ConnectionLimits
    let counters: ConnectionCounters

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(ConnectionCap(limit: limits.maxConnections, counters: counters))
            // Hummingbird's HTTP1Channel settings and decoder limits.
            var decoderLimits = NIOHTTPDecoderLimitConfiguration()
            decoderLimits.maxHeaderFieldSize = 80 * 1024
            decoderLimits.maxHeaderListSize = 80 * 1024
            decoderLimits.maxHeaderFieldCount = 1000
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false,
                withErrorHandling: false,
                withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: decoderLimits
            )
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(ConnectionDeadline(limits: limits, counters: counters))
            try pipeline.addHandler(HTTPConnectionStateHandler(logger: logger))
            try pipeline.addHandler(RequestHandler(channel: self, logger: logger))
            return Value(channel: channel)
        }
    }

    /// The connection's requests are the handler's: this only waits for it to close (closing it
    /// when the server's task is cancelled).
    func handle(value: Value, logger: Logger) async {
        let channel = value.channel
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

/// Reads a connection's requests and answers them in order, one at a time (see ``RequestChannel``).
/// Everything but the request's task runs on the connection's event loop.
final class RequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// Waiting for a request's head.
        case idle
        /// Reading a request's body, before its task starts.
        case receiving(HTTPRequest, ByteBuffer?)
        /// A request's task has it; `dropping`: the rest of its body is still coming, to be dropped.
        case responding(dropping: Bool)
        /// Answered, but the rest of its body is still coming, to be dropped.
        case dropping
        case closed
    }

    /// Parts that wait for the request being answered: past this many bytes, or this many
    /// parts, the connection stops reading until they are taken.
    static let maxQueuedBytes = 1 << 20
    static let maxQueuedParts = 64
    /// Requests started one after another without the loop polling for I/O in between (see
    /// ``mustWaitToStart``).
    static let maxStartsPerTurn = 16

    private let channel: RequestChannel
    private let logger: Logger
    private var state = State.idle
    private var context: ChannelHandlerContext?
    private var queued = CircularBuffer<HTTPRequestPart>()
    private var queuedBytes = 0
    private var readHeld = false
    private var startsThisTurn = 0
    private var startDeferred = false
    private var closeAfterResponse = false
    private var writabilityWaiters: [CheckedContinuation<Void, any Error>] = []

    init(channel: RequestChannel, logger: Logger) {
        self.channel = channel
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        close()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        close()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { resumeWriters(throwing: nil) }
        context.fireChannelWritabilityChanged()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard queued.isEmpty, !mustWaitToStart else {
            // Behind others waiting, or a request that is not to start in this turn.
            enqueue(part)
            if !isResponding { deferStart(context: context) }
            return
        }
        receive(part, context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        startsThisTurn = 0
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        guard mayReadAhead else {
            readHeld = true
            return
        }
        context.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .idle, .receiving, .dropping:
            if error is HTTPParserError {
                // As Hummingbird does: a request that cannot be parsed gets a 400, and the connection ends.
                logger.debug("HTTP parse error, closing connection")
                context.write(
                    wrapOutboundOut(.head(HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"]))),
                    promise: nil
                )
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        case .responding, .closed:
            break
        }
        close()
        context.close(promise: nil)
    }

    private func receive(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch state {
        case .idle:
            guard case .head(let head) = part else { return }
            if let declared = head.headerFields[.contentLength].flatMap(Int.init), declared > channel.maxBodyBytes {
                start(head, body: oversized, dropping: true, context: context)
            } else {
                state = .receiving(head, nil)
            }
        case .receiving(let head, var body):
            switch part {
            case .head:
                state = .closed
                context.close(promise: nil)
            case .body(let buffer):
                state = .idle  // the body's only reference while it grows
                if body == nil { body = buffer } else { body!.writeImmutableBuffer(buffer) }
                if body!.readableBytes > channel.maxBodyBytes {
                    start(head, body: oversized, dropping: true, context: context)
                } else {
                    state = .receiving(head, body)
                }
            case .end:
                start(head, body: RequestBody(buffer: body ?? ByteBuffer()), dropping: false, context: context)
            }
        case .responding(dropping: true):
            if case .end = part { state = .responding(dropping: false) }
        case .responding(dropping: false):
            enqueue(part)
        case .dropping:
            if case .end = part { state = .idle }
        case .closed:
            break
        }
    }

    /// A body over ``RequestChannel/maxBodyBytes``.
    private var oversized: RequestBody { RequestBody(asyncSequence: OversizedBody(limit: channel.maxBodyBytes)) }

    /// Starts `head`'s task: the router's answer, written back into this pipeline.
    private func start(_ head: HTTPRequest, body: RequestBody, dropping: Bool, context: ChannelHandlerContext) {
        state = .responding(dropping: dropping)
        startsThisTurn += 1
        if head.headerFields[.connection]?.lowercased() == "close" { closeAfterResponse = true }
        let request = Request(head: head, body: body)
        let (channel, logger) = (context.channel, logger)
        let connection = ResponseConnection(handler: NIOLoopBound(self, eventLoop: context.eventLoop), loop: context.eventLoop)
        let responder = self.channel.responder
        let serverName = self.channel.serverName
        self.channel.meter.startRequest(defaultPayer: self.channel.defaultPayer) {
            await Self.respond(
                to: request,
                on: channel,
                logger: logger,
                responder: responder,
                serverName: serverName,
                connection: connection
            )
        }
    }

    /// The request's task: the router's answer, written back into the connection.
    private static func respond(
        to request: Request,
        on channel: any Channel,
        logger: Logger,
        responder: any HTTPResponder<AppRequestContext>,
        serverName: String?,
        connection: ResponseConnection
    ) async {
        var response: Response
        let context = AppRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
        do {
            response = try await Database.$timeoutMayCancelCaller.withValue(true) {
                try await responder.respond(to: request, context: context)
            }
        } catch let error as any HTTPResponseError {
            response = (try? error.response(from: request, context: context)) ?? Response(status: .internalServerError)
        } catch {
            context.logger.debug("Unrecognised Error", metadata: ["error.type": "\(error)"])
            response = Response(status: .internalServerError)
        }
        response.headers[.date] = HTTPDate.now
        if let serverName { response.headers[.server] = serverName }
        do {
            try await response.body.write(ResponseChannelWriter(head: response.head, connection: connection))
        } catch {
            connection.abort()
        }
    }

    /// Writes response parts, in order, and flushes them. Returns whether the writer is to wait
    /// for the channel to become writable again before writing more.
    func emit(head: HTTPResponse?, _ first: ByteBuffer?, _ second: ByteBuffer?, end: Bool, trailers: HTTPFields?) throws -> Bool {
        guard let context, context.channel.isActive else { throw ChannelError.ioOnClosedChannel }
        if let head { context.write(wrapOutboundOut(.head(head)), promise: nil) }
        if let first { context.write(wrapOutboundOut(.body(first)), promise: nil) }
        if let second { context.write(wrapOutboundOut(.body(second)), promise: nil) }
        guard end else {
            context.flush()
            return !context.channel.isWritable
        }
        context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
        responseEnded(context: context)
        return false
    }

    /// Resumes `waiter` once the channel is writable (at once if it is), or throws if it closes.
    func awaitWritable(_ waiter: CheckedContinuation<Void, any Error>) {
        guard let context, context.channel.isActive else { return waiter.resume(throwing: ChannelError.ioOnClosedChannel) }
        guard !context.channel.isWritable else { return waiter.resume() }
        writabilityWaiters.append(waiter)
    }

    /// A response that could not be finished: the connection cannot carry another.
    func abort() {
        guard let context else { return }
        close()
        context.close(promise: nil)
    }

    private func responseEnded(context: ChannelHandlerContext) {
        guard case .responding(let dropping) = state else { return }
        if closeAfterResponse {
            close()
            context.close(promise: nil)
            return
        }
        state = dropping ? .dropping : .idle
        startQueued(context: context)
    }

    /// Starts the next request waiting, if any, and reads on once few enough wait.
    private func startQueued(context: ChannelHandlerContext) {
        while !queued.isEmpty, !isResponding {
            guard !mustWaitToStart else { return deferStart(context: context) }
            let part = queued.removeFirst()
            if case .body(let buffer) = part { queuedBytes -= buffer.readableBytes }
            receive(part, context: context)
        }
        if readHeld, mayReadAhead {
            readHeld = false
            context.read()
        }
    }

    /// Whether the next request must wait for a later turn of the event loop.
    ///
    /// The requests of one read, or started one after another as each ends, run in one turn of
    /// the event loop (in the read, or among the tasks that tasks enqueue, which SwiftNIO runs
    /// before it polls for I/O again). A client that pipelines many cheap requests would hold the
    /// loop, and every other connection on it, for as long as they take: past
    /// ``maxStartsPerTurn`` the next one waits a millisecond, and the loop serves its other
    /// connections first.
    private var mustWaitToStart: Bool {
        guard case .idle = state else { return false }
        return startsThisTurn >= Self.maxStartsPerTurn
    }

    private func deferStart(context: ChannelHandlerContext) {
        guard !startDeferred else { return }
        startDeferred = true
        context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(1)) { [self] in
            startDeferred = false
            startsThisTurn = 0
            if let context = self.context { startQueued(context: context) }
        }
    }

    private func enqueue(_ part: HTTPRequestPart) {
        queued.append(part)
        if case .body(let buffer) = part { queuedBytes += buffer.readableBytes }
    }

    private var mayReadAhead: Bool { queuedBytes < Self.maxQueuedBytes && queued.count < Self.maxQueuedParts }

    private var isResponding: Bool {
        if case .responding = state { return true }
        return false
    }

    private func close() {
        state = .closed
        queued.removeAll()
        queuedBytes = 0
        resumeWriters(throwing: ChannelError.ioOnClosedChannel)
    }

    private func resumeWriters(throwing error: (any Error)?) {
        let waiters = writabilityWaiters
        writabilityWaiters = []
        for waiter in waiters {
            if let error { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }
}

/// The body of a request over the connection's limit: reading it throws what a `collect(upTo:)`
/// over its limit throws.
struct OversizedBody: AsyncSequence, Sendable {
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let limit: Int
        func next() async throws -> ByteBuffer? { throw NIOTooManyBytesError(maxBytes: limit) }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(limit: limit) }
}

/// A request task's way back to its connection's handler, on the connection's event loop.
struct ResponseConnection: Sendable {
    let handler: NIOLoopBound<RequestHandler>
    let loop: any EventLoop

    /// Writes parts of the response (see ``RequestHandler/emit(head:_:_:end:trailers:)``), waiting
    /// while the channel is not writable.
    func send(head: HTTPResponse?, _ first: ByteBuffer?, _ second: ByteBuffer? = nil, end: Bool, trailers: HTTPFields? = nil) async throws {
        if loop.inEventLoop {
            guard try handler.value.emit(head: head, first, second, end: end, trailers: trailers) else { return }
        } else {
            let handler = handler
            let mustWait = try await loop.submit { try handler.value.emit(head: head, first, second, end: end, trailers: trailers) }.get()
            guard mustWait else { return }
        }
        try await withCheckedThrowingContinuation { waiter in
            if loop.inEventLoop {
                handler.value.awaitWritable(waiter)
            } else {
                loop.execute { [handler] in handler.value.awaitWritable(waiter) }
            }
        }
    }

    func abort() {
        if loop.inEventLoop {
            handler.value.abort()
        } else {
            loop.execute { [handler] in handler.value.abort() }
        }
    }
}

/// Writes a response body through ``ResponseConnection``. The head and the first buffer are held
/// back until there is more or the end, so a response of one buffer goes out in one flush.
struct ResponseChannelWriter: ResponseBodyWriter {
    private var head: HTTPResponse?
    private var held: ByteBuffer?
    let connection: ResponseConnection

    init(head: HTTPResponse, connection: ResponseConnection) {
        self.head = head
        self.connection = connection
    }

    mutating func write(_ buffer: ByteBuffer) async throws {
        if head != nil, held == nil {
            held = buffer
            return
        }
        let head = self.head.take()
        let held = self.held.take()
        if let held {
            try await connection.send(head: head, held, buffer, end: false)
        } else {
            try await connection.send(head: head, buffer, end: false)
        }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await connection.send(head: head, held, end: true, trailers: trailingHeaders)
    }
}

/// The `Date` header's value (RFC 9110's IMF-fixdate), rendered once a second.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))

    static var now: String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &time)
        let second = Int(time.tv_sec)
        return cache.withLock { cache in
            if cache.second != second { cache = (second, render(second)) }
            return cache.text
        }
    }

    /// `second` (since 1970, UTC) as `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func render(_ second: Int) -> String {
        var time = time_t(second)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(twoDigits(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec)) GMT"
    }
}
