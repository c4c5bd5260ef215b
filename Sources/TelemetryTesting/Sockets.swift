#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A TCP socket on 127.0.0.1 that listens and never accepts: a client's connection is made and
/// its request sent, and nothing ever answers. For testing timeouts against a real peer.
public final class SilentListener: Sendable {
    public let port: Int
    private let descriptor: Int32

    public init() throws {
        let (descriptor, port) = try bindLoopback()
        guard listen(descriptor, 16) == 0 else {
            close(descriptor)
            throw SocketSetupError()
        }
        self.descriptor = descriptor
        self.port = port
    }

    deinit { close(descriptor) }
}

/// A port on 127.0.0.1 that is bound and never listens, for as long as this lives: connections
/// to it are refused, and no other test's server can be given the port meanwhile (as one can a
/// port bound and closed at once, when tests run in parallel).
public final class RefusingPort: Sendable {
    public let port: Int
    private let descriptor: Int32

    public init() throws {
        (descriptor, port) = try bindLoopback()
    }

    deinit { close(descriptor) }
}

/// A port on 127.0.0.1 where nothing listens (bound, then closed): connections are refused until
/// something binds it, as a test's own server later may (use ``RefusingPort`` otherwise).
public func refusedLoopbackPort() throws -> Int {
    let (descriptor, port) = try bindLoopback()
    close(descriptor)
    return port
}

public struct SocketSetupError: Error {}

private func bindLoopback() throws -> (Int32, Int) {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw SocketSetupError() }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
        }
    }
    guard bound else {
        close(descriptor)
        throw SocketSetupError()
    }
    return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
}
