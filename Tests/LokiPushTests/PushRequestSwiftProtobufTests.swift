import NIOCore
import SwiftProtobuf
import Testing

@_spi(Benchmarks) @testable import LokiPush

/// The hand-written encoder against swift-protobuf's types generated from Loki's push.proto
/// (Generated/loki_push.pb.swift): every byte must decode, and re-encoding must reproduce them.
@Suite struct PushRequestSwiftProtobufTests {
    @Test func swiftProtobufDecodesEveryByteTheEncoderWrites() throws {
        let streams = [
            LokiStream(
                labels: try LokiLabels(["service_name": "runway", "level": "warning", "instance": "i-1"]),
                entries: (0..<50).map { i in
                    LokiEntry(
                        timestampNanoseconds: 1_764_158_400_000_000_000 + Int64(i),
                        line: "line \(i) ☕",
                        metadata: i % 2 == 0 ? [("request_id", "r-\(i)"), ("tenant", "t")] : []
                    )
                }
            ),
            LokiStream(labels: try LokiLabels(["service_name": "runway"]), entries: [LokiEntry(timestampNanoseconds: 0, line: "epoch")]),
        ]
        let encoded = PushRequestEncoder.encode(streams)
        let bytes = Array(encoded.readableBytesView)
        let request = try Logproto_PushRequest(serializedBytes: bytes)
        #expect(request.streams.count == 2)
        for (stream, decoded) in zip(streams, request.streams) {
            #expect(decoded.labels == stream.labels.rendered)
            #expect(decoded.hash == 0)
            #expect(decoded.entries.count == stream.entries.count)
            for (entry, decodedEntry) in zip(stream.entries, decoded.entries) {
                let (seconds, nanos) = PushRequestEncoder.splitTimestamp(entry.timestampNanoseconds)
                #expect(decodedEntry.timestamp.seconds == seconds)
                #expect(decodedEntry.timestamp.nanos == nanos)
                #expect(decodedEntry.line == entry.line)
                #expect(decodedEntry.structuredMetadata.map { [$0.name, $0.value] } == entry.metadata.map { [$0.name, $0.value] })
                #expect(decodedEntry.parsed.isEmpty)
            }
        }
        #expect(request.unknownFields.data.isEmpty)
        // Canonical encoding: swift-protobuf writes back exactly our bytes.
        let reencoded: [UInt8] = try request.serializedBytes()
        #expect(reencoded == bytes)
    }
}
