import Foundation
import HTTPServerTesting
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import App

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

    /// Sends `text` and reads one response (or what came before the peer closed).
    static func exchange(port: Int, send text: String) throws -> String {
        let connection = try RawConnection(port: port)
        try connection.send(text)
        return try connection.readResponse()
    }
}
