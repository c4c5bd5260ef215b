import Foundation
import Hummingbird
import NIOCore

// A bare Hummingbird server that answers `GET /healthz` as Runway does and does nothing else: the
// ceiling Runway's whole middleware stack is measured against (`scripts/bench-load --healthz`).
// Usage: bare-hello PORT (0: any free port); prints "bare-hello listening on http://127.0.0.1:PORT".
let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 0
let router = Router()
router.get("healthz") { _, _ in
    Response(
        status: .ok,
        headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#))
    )
}
let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "bare-hello"),
    onServerRunning: { channel in
        let line = "bare-hello listening on http://127.0.0.1:\(channel.localAddress?.port ?? port)\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }
)
try await app.runService()
