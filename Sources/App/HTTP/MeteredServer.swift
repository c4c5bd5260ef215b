import CostMeter
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

extension Application where Responder == RouterResponder<AppRequestContext> {
    /// An application of `router` on Runway's HTTP/1 server
    /// (``HTTPServerBuilder/metered(_:by:defaultPayer:serverName:maxBodyBytes:limits:counters:)``).
    init(
        metered router: Router<AppRequestContext>,
        by meter: CostMeter,
        defaultPayer: Payer,
        configuration: ApplicationConfiguration = ApplicationConfiguration(),
        maxBodyBytes: Int = 1 << 20,
        limits: ConnectionLimits = ConnectionLimits(),
        counters: ConnectionCounters = ConnectionCounters(),
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in },
        eventLoopGroupProvider: EventLoopGroupProvider = .singleton,
        logger: Logger? = nil
    ) {
        let responder = router.buildResponder()
        self.init(
            responder: responder,
            server: .metered(
                responder,
                by: meter,
                defaultPayer: defaultPayer,
                serverName: configuration.serverName,
                maxBodyBytes: maxBodyBytes,
                limits: limits,
                counters: counters
            ),
            configuration: configuration,
            onServerRunning: onServerRunning,
            eventLoopGroupProvider: eventLoopGroupProvider,
            logger: logger
        )
    }
}

extension HTTPServerBuilder {
    /// Runway's HTTP/1 server (``RequestChannel``): every request — from the moment its head and
    /// body are read to the last byte of its response — on a metered executor of its own, billed
    /// to `defaultPayer` unless the request names its payer (``RequestFacts/bill(_:)``). Writing
    /// the response runs there too: a large search result costs its tenant, not the platform.
    /// Reading and parsing the request, on the event loop before its task starts, go to it too:
    /// the meter credits a loop's I/O to the executor whose job it enqueues.
    ///
    /// Requests go to `responder` (the application's, which Hummingbird also hands this builder
    /// in a form bound to `NIOAsyncChannel`), with the `Server` header `serverName` if any. Each
    /// connection is held to `limits` (``ConnectionCap``, ``ConnectionDeadline``), counted in
    /// `counters`.
    static func metered(
        _ responder: some HTTPResponder<AppRequestContext>,
        by meter: CostMeter,
        defaultPayer: Payer,
        serverName: String?,
        maxBodyBytes: Int = 1 << 20,
        limits: ConnectionLimits = ConnectionLimits(),
        counters: ConnectionCounters = ConnectionCounters()
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { _ in
            RequestChannel(
                responder: responder,
                meter: meter,
                defaultPayer: defaultPayer,
                serverName: serverName,
                maxBodyBytes: maxBodyBytes,
                limits: limits,
                counters: counters
            )
        }
    }
}
