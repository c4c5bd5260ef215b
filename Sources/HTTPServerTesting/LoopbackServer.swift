import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import TelemetryTesting

/// Runs `app`'s HTTP server on 127.0.0.1 at a free port for the length of `body`, then shuts it
/// down gracefully.
///
/// Tests bind and connect to the address `127.0.0.1`, never the name `localhost`: on a stock
/// Debian 12 `localhost` resolves to `::1` first, and HummingbirdTesting's `.live` binds the name,
/// so a client that connects to 127.0.0.1 finds nothing there.
/// - Parameters:
///   - app: the application to serve (its own address is ignored).
///   - body: gets the port; the server stops when it returns or throws.
/// - Throws: `TimeLimitExceeded` when the server is not listening within `defaultTestWait`.
public func withLoopbackServer<App: ApplicationProtocol, Value: Sendable>(
    _ app: App,
    _ body: @Sendable (_ port: Int) async throws -> Value
) async throws -> Value {
    let loopback = LoopbackApplication(base: app)
    let serviceGroup = ServiceGroup(configuration: .init(services: [loopback], logger: app.logger))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await serviceGroup.run() }
        let result: Result<Value, any Error>
        do {
            let port = try await loopback.listening.next()
            result = .success(try await body(port))
        } catch {
            result = .failure(error)
        }
        await serviceGroup.triggerGracefulShutdown()
        try await group.waitForAll()
        return try result.get()
    }
}

/// `base` with its address replaced by 127.0.0.1 and any free port, reporting the port it got.
struct LoopbackApplication<Base: ApplicationProtocol>: ApplicationProtocol, Service {
    typealias Responder = Base.Responder

    let base: Base
    let listening = Arrivals<Int>("the test server listening on 127.0.0.1")

    var responder: Responder { get async throws { try await base.responder } }
    var server: HTTPServerBuilder { base.server }
    var eventLoopGroup: any EventLoopGroup { base.eventLoopGroup }
    var configuration: ApplicationConfiguration { base.configuration.with(address: .hostname("127.0.0.1", port: 0)) }
    var logger: Logger { base.logger }
    var services: [any Service] { base.services }
    var processesRunBeforeServerStart: [@Sendable () async throws -> Void] { base.processesRunBeforeServerStart }

    @Sendable func onServerRunning(_ channel: any Channel) async {
        await base.onServerRunning(channel)
        if let port = channel.localAddress?.port { listening.record(port) }
    }
}
