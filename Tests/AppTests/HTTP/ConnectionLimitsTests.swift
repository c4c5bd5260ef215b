import CostMeter
import Foundation
import HTTPServerTesting
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Synchronization
import Testing

@testable import App

/// Slow clients and connection floods: the deadlines on an embedded channel whose clock the test
/// moves, the cap and a real slow client on a real server.
@Suite struct ConnectionLimitsTests {
    static let limits = ConnectionLimits(
        maxConnections: 2,
        headerTimeout: .seconds(10),
        idleTimeout: .seconds(60),
        bodyTimeout: .seconds(30)
    )

    /// A connected embedded channel with only ``ConnectionDeadline`` in its pipeline.
    static func deadlineChannel(_ counters: ConnectionCounters) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: ConnectionDeadline(limits: limits, counters: counters))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    static let head = HTTPRequestPart.head(HTTPRequest(method: .put, scheme: nil, authority: "runway", path: "/v1/x"))

    @Test func aConnectionWhoseFirstHeadIsLateIsClosed() throws {
        let counters = ConnectionCounters()
        let channel = try Self.deadlineChannel(counters)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(9_999))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
        #expect(counters.timedOut(.header) == 1)
    }

    @Test func aBodyMustEndWithinTheBodyTimeoutAndTheNextHeadWithinTheIdleTimeout() throws {
        let counters = ConnectionCounters()
        let channel = try Self.deadlineChannel(counters)
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        try channel.writeInbound(Self.head)
        // The head arrived in time: the header deadline is off, the body's is on.
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        // Answering takes as long as it takes: no client deadline while the server works.
        channel.embeddedEventLoop.advanceTime(by: .seconds(600))
        #expect(channel.isActive)
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(channel.isActive)
        // The next request (keep-alive) starts in time, and its body never ends.
        try channel.writeInbound(Self.head)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(29_999))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
        #expect(counters.timedOut(.body) == 1)
        #expect(counters.timedOut(.header) == 0)
    }

    @Test func anIdleKeptAliveConnectionIsClosed() throws {
        let counters = ConnectionCounters()
        let channel = try Self.deadlineChannel(counters)
        try channel.writeInbound(Self.head)
        try channel.writeInbound(HTTPRequestPart.end(nil))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(!channel.isActive)
        #expect(counters.timedOut(.idle) == 1)
    }

    /// A server with the public listener's stack (metered, limited) and one route.
    static func server(limits: ConnectionLimits, counters: ConnectionCounters) -> some ApplicationProtocol {
        let router = Router(context: AppRequestContext.self)
        router.get("hello") { _, _ in "hello" }
        return Application(
            metered: router,
            by: CostMeter(configuration: .init(instance: "test")),
            defaultPayer: .admin,
            limits: limits,
            counters: counters,
            logger: TestDatabase.logger
        )
    }

    @Test func pastTheCapANewConnectionIsAnswered503AndClosed() async throws {
        let counters = ConnectionCounters()
        try await withLoopbackServer(Self.server(limits: Self.limits, counters: counters)) { port in
            try await offCooperativePool {
                let request = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                // Two connections held open, each having been answered (so the server counts them).
                let first = try RawConnection(port: port)
                let second = try RawConnection(port: port)
                for connection in [first, second] {
                    try connection.send(request)
                    let answer = try connection.readResponse()
                    #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
                }
                let third = try RawConnection(port: port)
                let refusal = try third.readToEnd()
                #expect(refusal.hasPrefix("HTTP/1.1 503"), "\(refusal)")
                #expect(refusal.contains("Retry-After: 1") && refusal.contains("Connection: close"))
                #expect(refusal.hasSuffix("}"), "a whole problem body, then the end: \(refusal)")
                #expect(refusal.contains(#""type":"urn:runway:problem:unavailable""#))
                #expect(counters.refused.load(ordering: .relaxed) == 1)
                // Held connections still work.
                try first.send(request)
                #expect(try first.readResponse().hasPrefix("HTTP/1.1 200"))
            }
        }
    }

    @Test func aClientThatSendsItsHeadTooSlowlyIsDisconnected() async throws {
        let counters = ConnectionCounters()
        var limits = Self.limits
        // The prompt client's head must be read within it even when the suite keeps the machine busy.
        limits.headerTimeout = .seconds(1)
        try await withLoopbackServer(Self.server(limits: limits, counters: counters)) { port in
            try await offCooperativePool {
                let slow = try RawConnection(port: port)
                try slow.send("GET /hello HTTP/1.1\r\nHo")
                // The server ends the connection (the read returns EOF, well before its 10 s bound).
                #expect(try slow.readToEnd() == "")
                #expect(counters.timedOut(.header) == 1)
                // A prompt client on a new connection is served.
                let prompt = try RawConnection(port: port)
                try prompt.send("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                #expect(try prompt.readResponse().hasPrefix("HTTP/1.1 200"))
            }
        }
    }
}
