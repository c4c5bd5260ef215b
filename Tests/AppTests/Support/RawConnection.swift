import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking TCP connection to 127.0.0.1 whose reads give up after 10 s.
final class RawConnection {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestSetupError(description: "socket failed") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw TestSetupError(description: "connect failed")
        }
    }

    deinit { close(descriptor) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count else { throw TestSetupError(description: "write failed") }
    }

    /// Writes `chunk` over and over, `count` times, until done or until the connection takes no
    /// byte for `stall` seconds (the peer stopped reading and the socket buffers are full).
    /// Returns the bytes taken.
    func sendUntilStalled(_ chunk: [UInt8], count: Int, stall: Int) -> Int {
        var timeout = timeval(tv_sec: stall, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var taken = 0
        for _ in 0..<count {
            var offset = 0
            while offset < chunk.count {
                let written = chunk.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, chunk.count - offset) }
                guard written > 0 else { return taken + offset }
                offset += written
            }
            taken += chunk.count
        }
        return taken
    }

    /// One response with a `Content-Length` body.
    func readResponse() throws -> String {
        var received = [UInt8]()
        while true {
            let text = String(decoding: received, as: UTF8.self)
            if let headEnd = text.range(of: "\r\n\r\n") {
                let head = text[..<headEnd.lowerBound].lowercased()
                let length =
                    head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if text.utf8.count - text.utf8.distance(from: text.startIndex, to: headEnd.upperBound) >= length { return text }
            }
            let chunk = try readChunk()
            guard !chunk.isEmpty else { return text }
            received += chunk
        }
    }

    /// Everything until the server closes the connection.
    func readToEnd() throws -> String {
        var received = [UInt8]()
        while true {
            let chunk = try readChunk()
            if chunk.isEmpty { return String(decoding: received, as: UTF8.self) }
            received += chunk
        }
    }

    private func readChunk() throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(descriptor, &buffer, buffer.count)
        if count < 0, errno == ECONNRESET { return [] }
        guard count >= 0 else { throw TestSetupError(description: "no answer within 10 s (errno \(errno))") }
        return Array(buffer[0..<count])
    }
}
