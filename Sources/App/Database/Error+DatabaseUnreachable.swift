import PostgresNIO
import _ConnectionPoolModule

extension Error {
    /// True for errors that say PostgreSQL could not be reached, rather than that a query failed.
    var meansDatabaseUnreachable: Bool {
        if self is ConnectionPoolError || self is DatabaseTimeout || self is DatabaseConnectionClosed { return true }
        guard let error = self as? PSQLError else { return false }
        if let state = sqlState {
            // 08: connection exceptions; 57014: statement_timeout (the statement was cancelled and
            // its transaction rolled back); 57P01…57P03: the server is shutting down or starting.
            return state.hasPrefix("08") || state.hasPrefix("57")
        }
        return [.connectionError, .serverClosedConnection, .clientClosedConnection].contains(error.code)
    }
}
