import Foundation
import HTTPServerTesting
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import App

#if canImport(Glibc)
    import Glibc
#endif

/// A body declared larger than the limit is refused from its headers: the server answers 413
/// while the client has sent only a few bytes of it, over a real socket.
@Suite struct OversizedBodyTests {
    @Test func aDeclaredOversizedBodyIsRefusedBeforeItIsSent() async throws {
        let app = try await TestApp(maxDocumentBytes: 1024)
        let (_, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            try await #expect(client.send(.post, "/v1/collections", key: key, json: #"{"name":"big"}"#).status == .created)
        }
        try await withLoopbackServer(app.publicApplication) { port in
            let head =
                "PUT /v1/collections/big/documents/d HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\n"
                + "Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{\"a\":\""
            let response = try await offCooperativePool { try Self.exchange(port: port, send: head) }
            #expect(response.hasPrefix("HTTP/1.1 413"), "\(response)")
            #expect(response.contains("urn:runway:problem:too-large"))
            // The connection was refused, not the server: it still answers on a new one.
            let health = try await offCooperativePool {
                try Self.exchange(port: port, send: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            }
            #expect(health.hasPrefix("HTTP/1.1 200"), "\(health)")
        }
    }

    /// Sends `text` and reads until the peer closes or a whole response head and problem body arrived.
    static func exchange(port: Int, send text: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSetupError(description: "socket failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestSetupError(description: "connect failed") }
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw TestSetupError(description: "write failed") }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: received, as: UTF8.self).contains("}") {
            let count = read(fd, &buffer, buffer.count)
            guard count > 0 else { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
