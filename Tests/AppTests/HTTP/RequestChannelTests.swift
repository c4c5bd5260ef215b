import CostMeter
import Foundation
import HTTPServerTesting
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import App

/// Runway's HTTP/1 connections (``RequestChannel``) over real sockets: what Hummingbird's own
/// HTTP/1 channel did for a client, it still does.
@Suite struct RequestChannelTests {
    static let maxBodyBytes = 1000
    static let streamedBlocks = 128
    static let blockBytes = 64 << 10

    static func server() -> some ApplicationProtocol {
        let router = Router(context: AppRequestContext.self)
        router.get("echo/:word") { _, context in try context.parameters.require("word") }
        router.put("body") { request, _ in
            do {
                return "\(try await request.body.collect(upTo: maxBodyBytes).readableBytes)"
            } catch is NIOTooManyBytesError {
                throw HTTPError(.contentTooLarge)
            }
        }
        // Blocks of one letter each, a, b, c…: far more than a socket buffer holds.
        router.get("stream") { _, _ in
            Response(
                status: .ok,
                body: ResponseBody(contentLength: streamedBlocks * blockBytes) { writer in
                    for block in 0..<streamedBlocks {
                        try await writer.write(ByteBuffer(repeating: UInt8(ascii: "a") + UInt8(block % 26), count: blockBytes))
                    }
                    try await writer.finish(nil)
                }
            )
        }
        return Application(
            metered: router,
            by: CostMeter(configuration: .init(instance: "test")),
            defaultPayer: .admin,
            configuration: .init(serverName: "runway-test"),
            maxBodyBytes: maxBodyBytes,
            logger: TestDatabase.logger
        )
    }

    /// The bodies of the responses in `text`, in order (each with a `Content-Length`).
    static func bodies(_ text: String) -> [String] {
        var bodies: [String] = []
        var rest = Substring(text)
        while let headEnd = rest.range(of: "\r\n\r\n") {
            let head = rest[..<headEnd.lowerBound].lowercased()
            let length =
                head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            let body = rest[headEnd.upperBound...].prefix(length)
            bodies.append(String(body))
            rest = rest[body.endIndex...]
        }
        return bodies
    }

    @Test func pipelinedRequestsAreAnsweredInOrderWithDateAndServerHeaders() async throws {
        try await withLoopbackServer(Self.server()) { port in
            try await offCooperativePool {
                let connection = try RawConnection(port: port)
                try connection.send(
                    "GET /echo/one HTTP/1.1\r\nHost: a\r\n\r\nGET /echo/two HTTP/1.1\r\nHost: a\r\n\r\n"
                        + "GET /echo/three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                )
                let answers = try connection.readToEnd()
                #expect(Self.bodies(answers) == ["one", "two", "three"], "\(answers)")
                #expect(answers.components(separatedBy: "Server: runway-test\r\n").count == 4)
                #expect(answers.components(separatedBy: "Date: ").count == 4)
            }
        }
    }

    /// More pipelined requests than ``RequestHandler/maxQueuedParts``, read in one go: every one
    /// waits its turn and is answered, in order.
    @Test func manyPipelinedRequestsAreAllAnsweredInOrder() async throws {
        try await withLoopbackServer(Self.server()) { port in
            try await offCooperativePool {
                let connection = try RawConnection(port: port)
                let words = (0..<300).map { "w\($0)" }
                let requests = words.map { "GET /echo/\($0) HTTP/1.1\r\nHost: a\r\n\r\n" }.joined()
                try connection.send(requests + "GET /echo/last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                #expect(Self.bodies(try connection.readToEnd()) == words + ["last"])
            }
        }
    }

    /// While a request is answered, the connection reads at most ``RequestHandler/maxQueuedBytes``
    /// of the requests pipelined behind it, then stops reading: a client that pipelines without
    /// end fills its own socket buffers, not the server's memory.
    @Test func aConnectionStopsReadingPastItsReadAheadWhileARequestIsAnswered() async throws {
        let (released, release) = AsyncStream.makeStream(of: Void.self)
        let router = Router(context: AppRequestContext.self)
        router.get("hold") { _, _ in
            for await _ in released {}
            return "held"
        }
        router.put("body") { _, _ in "put" }
        let app = Application(
            metered: router,
            by: CostMeter(configuration: .init(instance: "test")),
            defaultPayer: .admin,
            maxBodyBytes: 1 << 20,
            logger: TestDatabase.logger
        )
        let body = 64 << 10
        let request = Array("PUT /body HTTP/1.1\r\nHost: a\r\nContent-Length: \(body)\r\n\r\n".utf8) + [UInt8](repeating: 97, count: body)
        let offered = 768  // requests: 48 MiB of bodies
        let taken = try await withLoopbackServer(app) { port in
            try await offCooperativePool {
                let connection = try RawConnection(port: port)
                try connection.send("GET /hold HTTP/1.1\r\nHost: a\r\n\r\n")
                defer { release.finish() }
                return connection.sendUntilStalled(request, count: offered, stall: 1)
            }
        }
        // The read-ahead (1 MiB), SwiftNIO's read buffer and the kernel's socket buffers; without
        // the bound, all 48 MiB.
        #expect(taken < offered * request.count / 2, "the server took \(taken) bytes")
    }

    /// Requests that need no I/O, pipelined, would all run in one turn of the event loop (SwiftNIO
    /// runs the tasks that tasks enqueue before it polls again): past
    /// ``RequestHandler/maxStartsPerTurn`` the loop serves its other connections first. The
    /// other client's request arrives while the first client's are running, on a loop of one
    /// thread that both connections share.
    @Test func aClientPipeliningCheapRequestsDoesNotHoldUpAnotherConnection() async throws {
        final class Shared: Sendable {
            let handled = Mutex<[String]>([])
            let otherDescriptor = Atomic<Int32>(-1)
        }
        let shared = Shared()
        let router = Router(context: AppRequestContext.self)
        router.get("first/:index") { _, context in
            let index = try context.parameters.require("index", as: Int.self)
            shared.handled.withLock { $0.append("first") }
            if index == 1 {
                // Whether it arrived whole, the other client's answer says below.
                let request = Array("GET /other HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".utf8)
                _ = write(shared.otherDescriptor.load(ordering: .relaxed), request, request.count)
            }
            return "first"
        }
        router.get("other") { _, _ in
            shared.handled.withLock { $0.append("other") }
            return "other"
        }
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let app = Application(
            metered: router,
            by: CostMeter(configuration: .init(instance: "test")),
            defaultPayer: .admin,
            eventLoopGroupProvider: .shared(loop),
            logger: TestDatabase.logger
        )
        let count = 200
        try await withLoopbackServer(app) { port in
            try await offCooperativePool {
                let other = try RawConnection(port: port)
                shared.otherDescriptor.store(other.descriptor, ordering: .relaxed)
                let first = try RawConnection(port: port)
                let requests = (0..<count).map { "GET /first/\($0) HTTP/1.1\r\nHost: a\r\n\r\n" }.joined()
                try first.send(requests + "GET /first/\(count) HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                #expect(Self.bodies(try first.readToEnd()).count == count + 1)
                #expect(Self.bodies(try other.readToEnd()) == ["other"])
            }
        }
        try await loop.shutdownGracefully()
        let handled = shared.handled.withLock { $0 }
        let other = try #require(handled.firstIndex(of: "other"))
        // About ``RequestHandler/maxStartsPerTurn`` in (16); without the bound, last.
        #expect(other < count / 4, "the other client's request came in at \(other) of \(handled.count)")
    }

    @Test func aBodyOverTheLimitIsRefusedAndTheConnectionServesTheNextRequest() async throws {
        try await withLoopbackServer(Self.server()) { port in
            try await offCooperativePool {
                let connection = try RawConnection(port: port)
                // Within the limit.
                try connection.send("PUT /body HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
                #expect(Self.bodies(try connection.readResponse()) == ["5"])
                // Chunked, over the limit: refused, the rest of the body read and dropped.
                let chunk = String(repeating: "x", count: 600)
                try connection.send("PUT /body HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
                for _ in 0..<4 { try connection.send("258\r\n\(chunk)\r\n") }
                try connection.send("0\r\n\r\n")
                #expect(try connection.readResponse().hasPrefix("HTTP/1.1 413"))
                // A declared length over the limit: refused before the body is read.
                try connection.send("PUT /body HTTP/1.1\r\nHost: a\r\nContent-Length: 3000\r\n\r\n")
                #expect(try connection.readResponse().hasPrefix("HTTP/1.1 413"))
                try connection.send(String(repeating: "y", count: 3000))
                // The same connection serves the next request.
                try connection.send("GET /echo/next HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(Self.bodies(try connection.readResponse()) == ["next"])
            }
        }
    }

    @Test func aStreamedResponseLargerThanTheSocketBuffersArrivesWholeAndInOrder() async throws {
        try await withLoopbackServer(Self.server()) { port in
            try await offCooperativePool {
                let connection = try RawConnection(port: port)
                try connection.send("GET /stream HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                let answer = try connection.readToEnd()
                #expect(answer.hasPrefix("HTTP/1.1 200"))
                let body = Self.bodies(answer).first ?? ""
                #expect(body.utf8.count == Self.streamedBlocks * Self.blockBytes)
                let firstOfEachBlock = stride(from: 0, to: body.utf8.count, by: Self.blockBytes).map {
                    body.utf8[body.utf8.index(body.utf8.startIndex, offsetBy: $0)]
                }
                #expect(firstOfEachBlock == (0..<Self.streamedBlocks).map { UInt8(ascii: "a") + UInt8($0 % 26) })
            }
        }
    }

    @Test func anUnparsableRequestIsAnswered400AndTheConnectionEnds() async throws {
        try await withLoopbackServer(Self.server()) { port in
            try await offCooperativePool {
                let connection = try RawConnection(port: port)
                try connection.send("NOT HTTP AT ALL\r\n\r\n")
                #expect(try connection.readToEnd().hasPrefix("HTTP/1.1 400"))
            }
        }
    }

    @Test func theDateHeaderIsAnIMFFixdate() {
        #expect(HTTPDate.render(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        for second in [0, 951_782_400, 1_798_761_599, 4_102_444_800] {
            #expect(HTTPDate.render(second) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(second))))
        }
    }
}
