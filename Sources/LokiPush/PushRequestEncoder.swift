import NIOCore
import Telemetry

/// Writes Loki's `logproto.PushRequest` protobuf straight into a buffer, without building
/// message objects. Field numbers follow grafana/loki `pkg/push/push.proto`:
///
/// ```
/// PushRequest     { repeated StreamAdapter streams = 1; }
/// StreamAdapter   { string labels = 1; repeated EntryAdapter entries = 2; }   // hash (3) left 0
/// EntryAdapter    { Timestamp timestamp = 1; string line = 2; repeated LabelPairAdapter structuredMetadata = 3; }
/// LabelPairAdapter{ string name = 1; string value = 2; }
/// Timestamp       { int64 seconds = 1; int32 nanos = 2; }
/// ```
///
/// Each entry's size is computed once, so every length prefix is written once; then one pass
/// writes the whole request through a raw pointer (``ProtobufWriter``), with no copying.
@_spi(Benchmarks) public enum PushRequestEncoder {
    @_spi(Benchmarks) public static func encode(_ streams: [LokiStream]) -> ByteBuffer {
        var entrySizes: [Int] = []
        entrySizes.reserveCapacity(streams.reduce(0) { $0 + $1.entries.count })
        var streamSizes: [Int] = []
        streamSizes.reserveCapacity(streams.count)
        var total = 0
        for stream in streams {
            var size = Protobuf.stringFieldSize(stream.labels.rendered.utf8.count)
            for entry in stream.entries {
                let entrySize = entrySize(entry)
                entrySizes.append(entrySize)
                size += Protobuf.fieldSize(payload: entrySize)
            }
            streamSizes.append(size)
            total += Protobuf.fieldSize(payload: size)
        }
        var buffer = ByteBuffer()
        buffer.writeProtobuf(size: total) { writer in
            var next = 0
            for (stream, size) in zip(streams, streamSizes) {
                writer.writeLengthPrefix(1, size)
                writer.writeStringField(1, stream.labels.rendered)
                for entry in stream.entries {
                    writer.writeLengthPrefix(2, entrySizes[next])
                    next += 1
                    writeEntry(entry, into: &writer)
                }
            }
        }
        return buffer
    }

    static func entrySize(_ entry: LokiEntry) -> Int {
        var size = Protobuf.fieldSize(payload: timestampSize(entry.timestampNanoseconds))
        size += Protobuf.stringFieldSize(entry.line.utf8.count)
        for pair in entry.metadata { size += Protobuf.fieldSize(payload: pairSize(pair)) }
        return size
    }

    private static func writeEntry(_ entry: LokiEntry, into writer: inout ProtobufWriter) {
        let (seconds, nanos) = splitTimestamp(entry.timestampNanoseconds)
        writer.writeLengthPrefix(1, timestampSize(entry.timestampNanoseconds))
        writer.writeVarintField(1, UInt64(bitPattern: seconds))
        writer.writeVarintField(2, UInt64(bitPattern: Int64(nanos)))
        writer.writeStringField(2, entry.line)
        for pair in entry.metadata {
            writer.writeLengthPrefix(3, pairSize(pair))
            writer.writeStringField(1, pair.name)
            writer.writeStringField(2, pair.value)
        }
    }

    /// Seconds and a non-negative nanosecond remainder, as `google.protobuf.Timestamp` wants.
    static func splitTimestamp(_ nanoseconds: Int64) -> (seconds: Int64, nanos: Int32) {
        var seconds = nanoseconds / 1_000_000_000
        var nanos = nanoseconds % 1_000_000_000
        if nanos < 0 {
            seconds -= 1
            nanos += 1_000_000_000
        }
        return (seconds, Int32(nanos))
    }

    private static func timestampSize(_ nanoseconds: Int64) -> Int {
        let (seconds, nanos) = splitTimestamp(nanoseconds)
        var size = 0
        if seconds != 0 { size += 1 + Protobuf.varintSize(UInt64(bitPattern: seconds)) }
        if nanos != 0 { size += 1 + Protobuf.varintSize(UInt64(bitPattern: Int64(nanos))) }
        return size
    }

    private static func pairSize(_ pair: (name: String, value: String)) -> Int {
        Protobuf.stringFieldSize(pair.name.utf8.count) + Protobuf.stringFieldSize(pair.value.utf8.count)
    }
}
