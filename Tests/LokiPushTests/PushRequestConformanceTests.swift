import Foundation
import NIOCore
import Telemetry
import TelemetryTesting
import Testing

@_spi(Benchmarks) @testable import LokiPush

/// What LokiPush writes is read back by independent implementations: Python's protobuf with
/// types generated from Loki's push.proto, and cramjam's snappy.
@Suite struct PushRequestConformanceTests {
    static func pythonDecode(_ body: ByteBuffer) throws -> [String: Any] {
        let data = try runConformanceDecoder("loki_push_decode.py", on: Array(body.readableBytesView))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func pythonDecodesExactlyWhatWasEncoded() throws {
        let streams = [
            LokiStream(
                labels: try LokiLabels(["service_name": "runway", "level": "info", "env": "prod \"quoted\" \\ \n\ttab ☕"]),
                entries: [
                    LokiEntry(
                        timestampNanoseconds: 1_764_158_400_123_456_789,
                        line: "GET /v1/collections 200",
                        metadata: [("request_id", "r-1"), ("tenant", "7F3A…"), ("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")]
                    ),
                    LokiEntry(timestampNanoseconds: 1_764_158_400_123_456_790, line: "", metadata: [("empty_value", "")]),
                    LokiEntry(timestampNanoseconds: 1_764_158_401_000_000_000, line: String(repeating: "x", count: 70_000)),
                ]
            ),
            LokiStream(
                labels: try LokiLabels(["service_name": "runway", "level": "error"]),
                entries: [LokiEntry(timestampNanoseconds: 5, line: "crème brûlée 😀 \u{0}nul")]
            ),
            LokiStream(
                labels: try LokiLabels(["service_name": "runway"]),
                entries: [LokiEntry(timestampNanoseconds: -1_500_000_000, line: "before 1970")]
            ),
        ]
        let body = try Snappy.compress(PushRequestEncoder.encode(streams))
        let decoded = try Self.pythonDecode(body)
        #expect(decoded["format"] as? String == "")
        let decodedStreams = try #require(decoded["streams"] as? [[String: Any]])
        #expect(decodedStreams.count == streams.count)
        for (stream, got) in zip(streams, decodedStreams) {
            #expect(got["labels"] as? String == stream.labels.rendered)
            #expect(got["hash"] as? Int == 0)
            let entries = try #require(got["entries"] as? [[String: Any]])
            #expect(entries.count == stream.entries.count)
            for (entry, gotEntry) in zip(stream.entries, entries) {
                let (seconds, nanos) = PushRequestEncoder.splitTimestamp(entry.timestampNanoseconds)
                #expect((gotEntry["seconds"] as? Int).map(Int64.init) == seconds)
                #expect(gotEntry["nanos"] as? Int == Int(nanos))
                #expect(gotEntry["line"] as? String == entry.line)
                let metadata = try #require(gotEntry["metadata"] as? [[String]])
                #expect(metadata == entry.metadata.map { [$0.name, $0.value] })
                #expect(gotEntry["parsed"] as? Int == 0)
            }
        }
    }

    @Test func snappyRoundTripsAndCompressesRepetitiveLines() throws {
        var raw = ByteBuffer()
        for i in 0..<1000 { raw.writeString("2026-11-26 level=info msg=\"request served\" route=/v1/collections status=200 n=\(i)\n") }
        let compressed = try Snappy.compress(raw)
        #expect(compressed.readableBytes < raw.readableBytes / 3)
        #expect(try Snappy.uncompress(compressed) == raw)
        #expect(try Snappy.uncompress(Snappy.compress(ByteBuffer())) == ByteBuffer())
        #expect(throws: Snappy.Failure.self) { try Snappy.uncompress(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])) }
    }

    @Test func varintSizesMatchTheirEncoding() {
        for value: UInt64 in [0, 1, 127, 128, 16_383, 16_384, UInt64(UInt32.max), UInt64.max] {
            var buffer = ByteBuffer()
            buffer.writeProtobuf(size: Protobuf.varintSize(value)) { $0.writeVarint(value) }  // traps on a mismatch
            #expect(buffer.readableBytes == Protobuf.varintSize(value), "\(value)")
        }
    }
}
