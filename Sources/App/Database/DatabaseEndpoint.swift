import Foundation
import PostgresNIO

/// Where and as whom to connect to PostgreSQL: parsed from a `postgres://` URL or made for the
/// embedded cluster.
///
/// Accepted URL forms: `postgres://user:password@host:port/database`, `postgresql://…`, and a Unix
/// socket folder as `postgres://user@/database?host=/run/postgresql`. `sslmode` is `disable`,
/// `prefer` (default for remote hosts) or `require`.
struct DatabaseEndpoint: Sendable, Equatable {
    enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)
    }
    enum TLSMode: String, Sendable, Equatable {
        case disable, prefer, require
    }

    var address: Address
    var username: String
    var password: String?
    var database: String
    var tls: TLSMode

    /// True for a Unix socket or a loopback address: the database shares this host.
    var isLocal: Bool {
        switch address {
        case .unixSocket: return true
        case .tcp(let host, _): return Self.isLoopback(host)
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if bare == "localhost" || bare == "::1" || bare == "0:0:0:0:0:0:0:1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// Parses a database URL; the error message never repeats the password.
    init(url text: String) throws {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql"
        else {
            throw ConfigurationError(description: "the database URL must look like postgres://user:password@host:5432/database")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        guard let user = components.user ?? query["user"], !user.isEmpty else {
            throw ConfigurationError(description: "the database URL names no user")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        self.username = user
        self.password = components.password ?? query["password"]
        self.database = database.isEmpty ? user : database
        let socketFolder = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        let port = components.port ?? query["port"].flatMap(Int.init) ?? 5432
        if let socketFolder {
            self.address = .unixSocket(path: socketFolder + "/.s.PGSQL.\(port)")
        } else if let host = components.host, !host.isEmpty {
            self.address = .tcp(host: host, port: port)
        } else {
            throw ConfigurationError(description: "the database URL names no host (use ?host=/socket/folder for a Unix socket)")
        }
        switch query["sslmode"] {
        case nil: self.tls = .prefer
        case "disable": self.tls = .disable
        case "prefer", "allow": self.tls = .prefer
        case "require", "verify-ca", "verify-full": self.tls = .require
        case let other?: throw ConfigurationError(description: "sslmode=\(other) is not one of disable, prefer, require")
        }
        if case .unixSocket = address { self.tls = .disable }
    }

    init(socketPath: String, username: String, database: String) {
        self.address = .unixSocket(path: socketPath)
        self.username = username
        self.password = nil
        self.database = database
        self.tls = .disable
    }

    /// Refuses a database that is not on this host unless the operator allowed it.
    func checkLocality(allowRemote: Bool) throws {
        guard isLocal || allowRemote else {
            throw ConfigurationError(
                description:
                    "the database host is not loopback or a Unix socket; Runway expects its database on the pod's loopback. Set RUNWAY_ALLOW_REMOTE_DB=1 to allow it."
            )
        }
    }

    /// - Parameter statementTimeout: PostgreSQL's `statement_timeout` on every connection (and
    ///   `idle_in_transaction_session_timeout`, so a transaction its client abandoned does not
    ///   hold its locks); nil: the server's default (none).
    func clientConfiguration(maxConnections: Int, statementTimeout: Duration? = nil) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch address {
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: username, password: password, database: database)
        case .tcp(let host, let port):
            let tls: PostgresClient.Configuration.TLS =
                switch self.tls {
                case .disable: .disable
                case .prefer: .prefer(.makeClientConfiguration())
                case .require: .require(.makeClientConfiguration())
                }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        configuration.options.maximumConnections = maxConnections
        // Every connection is opened at start and kept, and none is pinged: PostgresNIO's pool
        // otherwise arms an idle-timeout and a keep-alive timer each time a connection goes back
        // to it, and a leased connection's cancelled timers still fire at their deadlines (30 and
        // 60 s later: a Dispatch wake-up each, tens of microseconds a request, spent long after
        // the request and billed to whoever runs then). The database is on loopback or a Unix
        // socket: no middlebox drops an idle connection, and a server that goes away closes it.
        configuration.options.minimumConnections = maxConnections
        configuration.options.keepAliveBehavior = nil
        configuration.options.connectTimeout = .seconds(5)
        if let statementTimeout {
            let milliseconds = String(max(1, Int((statementTimeout / .milliseconds(1)).rounded(.up))))
            configuration.options.additionalStartupParameters = [
                ("statement_timeout", milliseconds), ("idle_in_transaction_session_timeout", milliseconds),
            ]
        }
        return configuration
    }
}
