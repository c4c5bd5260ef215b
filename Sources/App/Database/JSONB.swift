import NIOCore
import PostgresNIO

/// Validated JSON text bound straight into a `jsonb` parameter in binary form (format version 1
/// followed by the text), with no intermediate String.
struct JSONBBytes: PostgresNonThrowingEncodable {
    static var psqlType: PostgresDataType { .jsonb }
    static var psqlFormat: PostgresFormat { .binary }

    var text: ByteBuffer

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeInteger(UInt8(1))
        byteBuffer.writeImmutableBuffer(text)
    }

    /// The JSON text of a `jsonb` column read as raw bytes (binary format carries a version byte).
    static func text(of column: ByteBuffer) -> ByteBuffer {
        var column = column
        if column.readableBytes > 0, column.getInteger(at: column.readerIndex, as: UInt8.self) == 1 {
            column.moveReaderIndex(forwardBy: 1)
        }
        return column
    }
}
