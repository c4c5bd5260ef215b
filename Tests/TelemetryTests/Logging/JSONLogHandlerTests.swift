import Foundation
import Logging
import Synchronization
@_spi(Benchmarks) import Telemetry
import Testing

/// A JSON line holds the handler's, the metadata provider's and the call's metadata, each key once,
/// in key order, the later source winning (swift-log's rule); every value is a JSON string.
@Suite struct JSONLogHandlerTests {
    @Test func metadataIsMergedLaterSourcesWinningAndWrittenInKeyOrder() throws {
        let output = JSONLineOutput(capturing: true)
        let provider = Logger.MetadataProvider { ["span_id": "from-provider", "shared": "provider", "trace_id": "t"] }
        var handler = JSONLogHandler(label: "test", level: .info, output: output, metadataProvider: provider)
        handler.metadata = ["shared": "handler", "only_handler": "h", "zeta": .stringConvertible(42)]
        let logger = Logger(label: "test") { _ in handler }

        logger.info("hello \"world\"", metadata: ["shared": "call", "alpha": "a\nb"])

        let line = try #require(output.captured.first)
        #expect(line.hasSuffix("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["msg"] == "hello \"world\"")
        #expect(object["shared"] == "call")
        #expect(object["alpha"] == "a\nb")
        #expect(object["only_handler"] == "h")
        #expect(object["span_id"] == "from-provider")
        #expect(object["zeta"] == "42")
        // After the fixed fields, the metadata keys in order, each once.
        let order = ["time", "level", "logger", "msg", "alpha", "only_handler", "shared", "span_id", "trace_id", "zeta"]
        let positions = order.map { key in line.ranges(of: "\"\(key)\":").map(\.lowerBound) }
        #expect(positions.allSatisfy { $0.count == 1 }, "each key once")
        #expect(positions.compactMap(\.first) == positions.compactMap(\.first).sorted())
    }

    /// A line longer than the stack's 1 KiB moves to the heap whole, escapes and all; a line of
    /// exactly the stack's size stays on the stack.
    @Test(arguments: [1020, 1024, 1025, 5000])
    func aLineOfAnyLengthIsWrittenWhole(length: Int) throws {
        let output = JSONLineOutput(capturing: true)
        let logger = Logger(label: "t") { JSONLogHandler(label: $0, level: .info, output: output) }
        // Everything but the value is fixed: the time's field is always 24 characters.
        let fixed = #"{"time":"2026-12-01T22:15:03.123Z","level":"info","logger":"t","msg":"m","v":""}"#.utf8.count + 1
        let escaped = "\u{1}\"\\\n\t"  // 6 + 2 + 2 + 2 + 2 bytes in the line
        let value = escaped + String(repeating: "x", count: length - fixed - 14)
        logger.info("m", metadata: ["v": .string(value)])

        let line = try #require(output.captured.first)
        #expect(line.utf8.count == length)
        #expect(line.hasPrefix(#"{"time":""#) && line.hasSuffix("}\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["v"] == value)
        #expect(object["msg"] == "m")
    }

    /// A line is rendered once, however long: a value's description is asked for once.
    @Test func aLongLineIsRenderedOnce() throws {
        let output = JSONLineOutput(capturing: true)
        let logger = Logger(label: "t") { JSONLogHandler(label: $0, level: .info, output: output) }
        let growing = Growing()
        logger.info("m", metadata: ["v": .stringConvertible(growing)])

        let line = try #require(output.captured.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(growing.calls.load(ordering: .relaxed) == 1)
        #expect(object["v"]?.count == 1500)
    }
}

/// 1,500 more characters at every call.
private final class Growing: CustomStringConvertible, Sendable {
    let calls = Atomic(0)
    var description: String {
        String(repeating: "x", count: 1500 * calls.add(1, ordering: .relaxed).newValue)
    }
}
