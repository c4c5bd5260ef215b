import Foundation
import Logging
import Telemetry
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
}
