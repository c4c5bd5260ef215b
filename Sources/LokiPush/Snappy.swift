import CSnappy
import NIOCore

/// Snappy *block* format through Debian's libsnappy: what Loki expects for a protobuf body.
@_spi(Benchmarks) public enum Snappy {
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// Compresses the readable bytes of `input` into a new buffer.
    @_spi(Benchmarks) public static func compress(_ input: ByteBuffer) throws -> ByteBuffer {
        let bound = snappy_max_compressed_length(input.readableBytes)
        var output = ByteBuffer()
        output.reserveCapacity(bound)
        let status = input.withUnsafeReadableBytes { source in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { target in
                var length = target.count
                let status = snappy_compress(
                    source.baseAddress?.assumingMemoryBound(to: CChar.self),
                    source.count,
                    target.baseAddress?.assumingMemoryBound(to: CChar.self),
                    &length
                )
                return status == SNAPPY_OK ? length : 0
            }
        }
        guard status > 0 || input.readableBytes == 0 else { throw Failure(description: "snappy_compress failed") }
        return output
    }

    /// Decompresses a snappy block (for tests and diagnostics).
    package static func uncompress(_ input: ByteBuffer) throws -> ByteBuffer {
        try input.withUnsafeReadableBytes { source in
            let base = source.baseAddress?.assumingMemoryBound(to: CChar.self)
            var length = 0
            guard snappy_uncompressed_length(base, source.count, &length) == SNAPPY_OK else {
                throw Failure(description: "not a snappy block")
            }
            var output = ByteBuffer()
            let written = output.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
                var outLength = target.count
                let status = snappy_uncompress(base, source.count, target.baseAddress?.assumingMemoryBound(to: CChar.self), &outLength)
                return status == SNAPPY_OK ? outLength : 0
            }
            guard written == length else { throw Failure(description: "corrupt snappy block") }
            return output
        }
    }
}
