import CZlib
import NIOCore

/// gzip (RFC 1952) through the system zlib, for `Content-Encoding: gzip`.
@_spi(Benchmarks) public enum Gzip {
    @_spi(Benchmarks) public struct Failure: Error {
        @_spi(Benchmarks) public var code: Int32
    }

    @_spi(Benchmarks) public static func compress(_ input: ByteBuffer, level: Int32 = 6) throws(Failure) -> ByteBuffer {
        var stream = z_stream()
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        let status = deflateInit2_(
            &stream,
            level,
            Z_DEFLATED,
            15 + 16,
            8,
            Z_DEFAULT_STRATEGY,
            ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size)
        )
        guard status == Z_OK else { throw Failure(code: status) }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.readableBytes)))
        var output = ByteBuffer()
        output.reserveCapacity(bound)
        let written = input.withUnsafeReadableBytes { source in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { target in
                stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(target.count)
                return deflate(&stream, Z_FINISH) == Z_STREAM_END ? Int(stream.total_out) : 0
            }
        }
        guard written > 0 else { throw Failure(code: Z_STREAM_ERROR) }
        return output
    }

    /// Inflates a gzip body (tests and diagnostics), refusing output over `limit` bytes.
    static func decompress(_ input: ByteBuffer, limit: Int = 64 << 20) throws(Failure) -> ByteBuffer {
        var stream = z_stream()
        var status = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw Failure(code: status) }
        defer { inflateEnd(&stream) }
        var output = ByteBuffer()
        var source = Array(input.readableBytesView)
        let chunk = 64 << 10
        status = source.withUnsafeMutableBufferPointer { source -> Int32 in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            while true {
                var result = Z_OK
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: chunk) { target in
                    stream.next_out = target.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(chunk)
                    result = inflate(&stream, Z_NO_FLUSH)
                    return chunk - Int(stream.avail_out)
                }
                if result == Z_STREAM_END { return Z_STREAM_END }
                guard result == Z_OK, output.readableBytes <= limit else { return result == Z_OK ? Z_BUF_ERROR : result }
            }
        }
        guard status == Z_STREAM_END else { throw Failure(code: status) }
        return output
    }
}
