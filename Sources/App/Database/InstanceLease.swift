import Foundation
import Logging
import NIOSSL
import PostgresNIO
import ServiceLifecycle

/// One live `runway serve` per instance name and database: the cost ledger books an instance's
/// whole capacity each minute, so two processes under one `RUNWAY_INSTANCE` would book it twice.
///
/// The lease is a session-level advisory lock on a connection of its own, held for the process's
/// life; PostgreSQL releases it when the connection ends, however the process ends, so a crashed
/// instance never blocks its successor.
struct InstanceLease {
    /// The advisory lock's first key ("rwin"); the second is `hashtext(instance)`.
    static let lockClass: Int32 = 0x72_77_69_6e

    struct Taken: Error, CustomStringConvertible {
        var instance: String
        var description: String {
            "another runway serve is running as instance \"\(instance)\" on this database: give each process its own "
                + "RUNWAY_INSTANCE (each books its instance's whole capacity in the cost ledger)"
        }
    }

    let instance: String
    let connection: PostgresConnection

    /// Takes the lease of `instance`, or throws ``Taken`` when a live process holds it.
    static func acquire(instance: String, endpoint: DatabaseEndpoint, logger: Logger) async throws -> InstanceLease {
        let connection = try await PostgresConnection.connect(
            configuration: try endpoint.connectionConfiguration(),
            id: 0,
            logger: logger
        )
        do {
            let rows = try await connection.query(
                "SELECT pg_try_advisory_lock(\(lockClass), hashtext(\(instance)))",
                logger: logger
            )
            var held = false
            for try await value in rows.decode(Bool.self) { held = value }
            guard held else { throw Taken(instance: instance) }
            return InstanceLease(instance: instance, connection: connection)
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Gives the lease back (the process is ending).
    func release() async {
        try? await connection.close()
    }
}

extension DatabaseEndpoint {
    /// A single connection's configuration, the same endpoint as the pool's.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch address {
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: username, password: password, database: database)
        case .tcp(let host, let port):
            let tls: PostgresConnection.Configuration.TLS =
                switch self.tls {
                case .disable: .disable
                case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
                case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
                }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        return configuration
    }
}

extension InstanceLease: Service {
    /// Holds the lease until graceful shutdown (or cancellation), then gives it back.
    func run() async throws {
        try? await gracefulShutdown()
        await release()
    }
}
