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
/// Sizes are computed first so every length prefix is written once, with no copying.
public enum PushRequestEncoder {
    public static func encode(_ streams: [LokiStream], into buffer: inout ByteBuffer) {
        for stream in streams {
            let size = streamSize(stream)
            buffer.writeProtobufTag(field: 1, wireType: 2)
            buffer.writeVarint(UInt64(size))
            buffer.writeProtobufString(field: 1, stream.labels.rendered)
            for entry in stream.entries {
                buffer.writeProtobufTag(field: 2, wireType: 2)
                buffer.writeVarint(UInt64(entrySize(entry)))
                writeEntry(entry, into: &buffer)
            }
        }
    }

    public static func encode(_ streams: [LokiStream]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(streams.reduce(0) { $0 + 5 + streamSize($1) })
        encode(streams, into: &buffer)
        return buffer
    }

    static func streamSize(_ stream: LokiStream) -> Int {
        var size = stringFieldSize(stream.labels.rendered.utf8.count)
        for entry in stream.entries { size += lengthDelimitedSize(entrySize(entry)) }
        return size
    }

    static func entrySize(_ entry: LokiEntry) -> Int {
        var size = lengthDelimitedSize(timestampSize(entry.timestampNanoseconds))
        size += stringFieldSize(entry.line.utf8.count)
        for pair in entry.metadata { size += lengthDelimitedSize(pairSize(pair)) }
        return size
    }

    private static func writeEntry(_ entry: LokiEntry, into buffer: inout ByteBuffer) {
        let (seconds, nanos) = splitTimestamp(entry.timestampNanoseconds)
        buffer.writeProtobufTag(field: 1, wireType: 2)
        buffer.writeVarint(UInt64(timestampSize(entry.timestampNanoseconds)))
        if seconds != 0 {
            buffer.writeProtobufTag(field: 1, wireType: 0)
            buffer.writeVarint(UInt64(bitPattern: seconds))
        }
        if nanos != 0 {
            buffer.writeProtobufTag(field: 2, wireType: 0)
            buffer.writeVarint(UInt64(bitPattern: Int64(nanos)))
        }
        buffer.writeProtobufString(field: 2, entry.line)
        for pair in entry.metadata {
            buffer.writeProtobufTag(field: 3, wireType: 2)
            buffer.writeVarint(UInt64(pairSize(pair)))
            buffer.writeProtobufString(field: 1, pair.name)
            buffer.writeProtobufString(field: 2, pair.value)
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
        stringFieldSize(pair.name.utf8.count) + stringFieldSize(pair.value.utf8.count)
    }

    /// A string field is written even when empty only if it is not the default; proto3 omits "".
    private static func stringFieldSize(_ count: Int) -> Int {
        count == 0 ? 0 : lengthDelimitedSize(count)
    }

    private static func lengthDelimitedSize(_ count: Int) -> Int {
        Protobuf.fieldSize(payload: count)
    }
}

extension ByteBuffer {
    mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        writeInteger(UInt8(value))
    }

    mutating func writeProtobufTag(field: UInt64, wireType: UInt64) {
        writeVarint(field << 3 | wireType)
    }

    /// A string field; proto3 leaves out an empty one.
    mutating func writeProtobufString(field: UInt64, _ value: String) {
        let count = value.utf8.count
        guard count > 0 else { return }
        writeProtobufTag(field: field, wireType: 2)
        writeVarint(UInt64(count))
        writeString(value)
    }
}
