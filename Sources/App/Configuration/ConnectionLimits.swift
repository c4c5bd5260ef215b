import Foundation

/// How long a client may take, and how many connections a listener holds, so that clients that
/// connect and never finish (a byte of header a second, or nothing at all) cannot hold the
/// listener's memory and file descriptors for ever.
struct ConnectionLimits: Sendable, Equatable {
    /// Open connections past which a new one is answered 503 and closed. `RUNWAY_MAX_CONNECTIONS`,
    /// default 4096.
    var maxConnections = 4096
    /// From a connection's opening to its first request's complete head. `RUNWAY_HEADER_TIMEOUT_MS`,
    /// default 10000.
    var headerTimeout: Duration = .seconds(10)
    /// From a response's end to the complete head of the connection's next request (keep-alive).
    /// `RUNWAY_IDLE_TIMEOUT_MS`, default 60000.
    var idleTimeout: Duration = .seconds(60)
    /// From a request's head to the end of its body. `RUNWAY_BODY_TIMEOUT_MS`, default 30000.
    var bodyTimeout: Duration = .seconds(30)
}
