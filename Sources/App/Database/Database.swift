import Foundation
import Logging
import NIOPosix
import PostgresNIO
import Synchronization
import Tracing

/// The service's access to PostgreSQL: a pooled client plus the one way tenant data is reached,
/// within a ``TenantScope``: ``withTenant(_:_:logger:_:)`` scopes a transaction to a tenant for
/// row-level security, and ``tenantStatement(_:scope:_:logger:)`` runs one statement that enters
/// the tenant itself (the document read and write: one round trip).
///
/// Every transaction or query is a client span named by its operation and table, never by
/// parameter values.
struct Database: Sendable {
    let clients: DatabaseClients
    let tracer: any Tracer
    /// Told of each tenant's work on a connection (the cost meter measures its backend's CPU).
    let observer: (any TenantWorkObserver)?
    /// Longest wait for a pooled connection plus the work on it; past it the caller gets
    /// ``DatabaseTimeout`` (a 503), rather than waiting as long as the database is down.
    let timeout: Duration

    init(
        clients: DatabaseClients,
        tracer: any Tracer = InstrumentationSystem.tracer,
        observer: (any TenantWorkObserver)? = nil,
        timeout: Duration = .seconds(5)
    ) {
        self.clients = clients
        self.tracer = tracer
        self.observer = observer
        self.timeout = timeout
    }

    init(client: PostgresClient, timeout: Duration = .seconds(5)) {
        self.init(clients: DatabaseClients(client), timeout: timeout)
    }

    /// A pooled connection (of the calling event loop's pool) for `body`, within ``timeout``.
    ///
    /// A statement that runs too long is cancelled by PostgreSQL itself (the pool's connections
    /// set ``statementTimeout(for:)``, below this timeout), so its transaction is rolled back
    /// before the caller hears of it. Past the timeout the database is not answering at all
    /// (stopped, or its host frozen), and a timer on the caller's event loop ends the wait: it
    /// closes the connection the call holds (PostgresNIO's queries do not stop on cancellation),
    /// or cancels its wait for one (PostgreSQL down: the pool keeps reconnecting and its lease
    /// requests wait). PostgresNIO's wait for a connection ends only by cancelling the task that
    /// waits: a request's own task (``timeoutMayCancelCaller``) is cancelled itself, and nothing
    /// it does later waits on anything that cancellation stops; any other caller (a service's
    /// long-lived task) waits in a child task, so that only the child is cancelled.
    func withConnection<Result: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        let watch = ConnectionWatch()
        let (client, loop) = clients.current
        let timer = loop.scheduleTask(in: TimeAmount(timeout)) { watch.expire() }
        defer { timer.cancel() }
        do {
            guard Self.timeoutMayCancelCaller else {
                return try await withoutActuallyEscaping(body) { body in
                    try await withThrowingTaskGroup(of: Result.self) { group in
                        group.addTask { try await Self.withConnection(of: client, watchedBy: watch, body) }
                        return try await group.next()!
                    }
                }
            }
            return try await Self.withConnection(of: client, watchedBy: watch, body)
        } catch {
            throw watch.expired ? DatabaseTimeout(limit: timeout) : error
        }
    }

    /// True in a task that a database call may cancel when it times out waiting for a connection:
    /// a request's own task, which the server (``RequestChannel``) starts with it set and which
    /// answers 503 to a timeout without waiting for anything else.
    @TaskLocal static var timeoutMayCancelCaller = false

    /// `body` with a connection of `client`, the calling task's wait for it and the connection
    /// watched by `watch`.
    private static func withConnection<Result: Sendable>(
        of client: PostgresClient,
        watchedBy watch: ConnectionWatch,
        _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try withUnsafeCurrentTask { try watch.wait(in: $0) }
        defer { watch.release() }
        return try await client.withConnection { connection in
            // PostgresNIO never answers a query written to a connection that has closed (the
            // write fails and nobody is told): one that closed while idle in the pool, or that a
            // timeout closed just before, is refused.
            guard !connection.isClosed else { throw DatabaseConnectionClosed() }
            try watch.lease(connection)
            defer { watch.release() }
            return try await body(connection)
        }
    }

    /// The moment, in milliseconds since 1970 as PostgreSQL's `runway.deadline` takes it, past
    /// which a tenant transaction begun now must not commit: just before this call's caller gives
    /// up on it (``timeout`` less a tenth, at most 100 ms), so a write answered 503 is not
    /// committed later by a database that was frozen with it queued.
    func commitDeadline(now: Date = Date()) -> Int64 {
        let margin = min(timeout / 10, .milliseconds(100))
        return Int64((now.timeIntervalSince1970 * 1000).rounded(.down)) + Int64((timeout - margin) / .milliseconds(1))
    }

    /// PostgreSQL's `statement_timeout` for a pool whose callers wait `timeout`: three quarters of
    /// it (at least 1 ms), so that PostgreSQL cancels a slow statement, and rolls back its
    /// transaction, before the caller gives up on it.
    static func statementTimeout(for timeout: Duration) -> Duration {
        max(.milliseconds(1), timeout * 3 / 4)
    }

    /// Runs `body` in a transaction in which row-level security shows only the scope's tenant's rows.
    ///
    /// The tenant is set by `runway_enter` (after it checks the scope's key, when it has one) with
    /// `set_config('runway.tenant_id', …, true)`: local to the transaction, so a pooled connection
    /// never carries it to the next user.
    /// - Throws: ``TenantKeyNoLongerValid`` when the scope's key was rotated or revoked.
    func withTenant<Result: Sendable>(
        _ scope: TenantScope,
        _ operation: DatabaseOperation,
        logger: Logger,
        _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let deadline = commitDeadline()
        return try await traced(operation) {
            try await withConnection { connection in
                try await observing(scope.tenant, on: connection, logger: logger) {
                    try await Self.transaction(on: connection, logger: logger) { connection in
                        var entered = false
                        let enter = Statements.Enter(scope: scope, deadline: deadline)
                        for try await row in try await connection.execute(enter, logger: logger) {
                            entered = row
                        }
                        guard entered else { throw TenantKeyNoLongerValid() }
                        return try await body(connection)
                    }
                }
            }
        }
    }

    /// Runs one prepared statement that enters the scope's tenant itself (a `runway_*` function
    /// that calls `runway_enter` first) and returns its rows: one round trip, in the statement's
    /// own transaction, with the same span and database CPU metering as ``withTenant(_:_:logger:_:)``.
    func tenantStatement<Statement: PostgresPreparedStatement>(
        _ statement: Statement,
        scope: TenantScope,
        _ operation: DatabaseOperation,
        logger: Logger
    ) async throws -> [Statement.Row] where Statement.Row: Sendable {
        try await traced(operation) {
            try await withConnection { connection in
                try await observing(scope.tenant, on: connection, logger: logger) {
                    var rows: [Statement.Row] = []
                    for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
                    return rows
                }
            }
        }
    }

    /// Runs `body`, the work of `tenant` on `connection`, under the ``observer``.
    private func observing<Result: Sendable>(
        _ tenant: UUID,
        on connection: PostgresConnection,
        logger: Logger,
        _ body: () async throws -> Result
    ) async throws -> Result {
        guard let observer else { return try await body() }
        return try await observer.observe(tenant: tenant, connection: connection, logger: logger, body)
    }

    /// Runs `body` in a transaction on the platform tables (plans, tenants, keys). Inside a
    /// request, its backend CPU is the request's.
    func withTransaction<Result: Sendable>(
        _ operation: DatabaseOperation,
        logger: Logger,
        _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await traced(operation) {
            try await withConnection { connection in
                try await observingForCurrentRequest(on: connection, logger: logger) {
                    try await Self.transaction(on: connection, logger: logger, body)
                }
            }
        }
    }

    /// Runs one statement (outside a transaction) within ``timeout`` and returns its rows. Inside
    /// a request, its backend CPU is the request's (a key look-up on a cache miss).
    @discardableResult
    func query(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await withConnection { connection in
            try await observingForCurrentRequest(on: connection, logger: logger) {
                try await connection.query(query, logger: logger).collect()
            }
        }
    }

    /// Runs `body`, work on `connection` for no tenant's transaction, under the ``observer``.
    private func observingForCurrentRequest<Result: Sendable>(
        on connection: PostgresConnection,
        logger: Logger,
        _ body: () async throws -> Result
    ) async throws -> Result {
        guard let observer else { return try await body() }
        return try await observer.observeForCurrentRequest(connection: connection, logger: logger, body)
    }

    /// Runs `body` (queries outside a transaction, and reading their rows) in a span for
    /// `operation`. Only database errors mark the span failed: a missing row is not a failure.
    func traced<Result>(_ operation: DatabaseOperation, _ body: () async throws -> Result) async throws -> Result {
        let span = tracer.startSpan("\(operation.name) \(operation.table)", context: ServiceContext.current ?? .topLevel, ofKind: .client)
        defer { span.end() }
        guard span.isRecording else { return try await body() }
        span.updateAttributes { attributes in
            attributes["db.system.name"] = "postgresql"
            attributes["db.operation.name"] = operation.name
            attributes["db.collection.name"] = operation.table
        }
        do {
            return try await ServiceContext.$current.withValue(span.context) { try await body() }
        } catch let error as PSQLError {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    /// BEGIN, `body`, COMMIT; ROLLBACK and rethrow `body`'s own error if it throws.
    ///
    /// Unlike `PostgresConnection.withTransaction`, the caller sees the error it threw, not a wrapper.
    static func transaction<Result: Sendable>(
        on connection: PostgresConnection,
        logger: Logger,
        _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        _ = try await connection.execute(Statements.Begin(), logger: logger)
        let result: Result
        do {
            result = try await body(connection)
        } catch {
            do {
                _ = try await connection.execute(Statements.Rollback(), logger: logger)
            } catch {
                logger.debug("rollback failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            throw error
        }
        _ = try await connection.execute(Statements.Commit(), logger: logger)
        return result
    }

    /// True when PostgreSQL answers a trivial query.
    func isReachable(logger: Logger) async -> Bool {
        do {
            try await query("SELECT 1", logger: logger)
            return true
        } catch {
            return false
        }
    }
}

/// Told of each tenant's work on a database connection: the cost meter measures the backend's
/// CPU around it. The database layer knows nothing more of who observes it.
protocol TenantWorkObserver: Sendable {
    /// Runs `body`, the work of `tenant` on `connection`, and observes it.
    func observe<Result: Sendable>(
        tenant: UUID,
        connection: PostgresConnection,
        logger: Logger,
        _ body: () async throws -> Result
    ) async throws -> Result

    /// Runs `body`, work on `connection` outside any tenant's transaction (a key look-up, the
    /// admin API's statements), and observes it for the request running it, if any.
    func observeForCurrentRequest<Result: Sendable>(
        connection: PostgresConnection,
        logger: Logger,
        _ body: () async throws -> Result
    ) async throws -> Result
}

/// One ``Database/withConnection(_:)`` call as its timer sees it: waiting for a connection (the
/// task to cancel), holding one (the connection to close), done with it, or expired.
private final class ConnectionWatch: Sendable {
    /// The waiting task, touched only under the lock and only while it waits (it leaves
    /// `.waiting` under the lock before it ends), so it is alive whenever the timer cancels it.
    private struct Waiter: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    private enum State {
        case idle
        case waiting(Waiter)
        case leased(PostgresConnection)
        case released
        case expired
    }

    private let state = Mutex<State>(.idle)

    /// The task starts waiting for a connection; throws when the timer expired first.
    func wait(in task: UnsafeCurrentTask?) throws {
        try state.withLock { state in
            guard case .idle = state else { throw CancellationError() }
            if let task { state = .waiting(Waiter(task: task)) }
        }
    }

    /// The task got `connection`; throws when the timer expired first.
    func lease(_ connection: PostgresConnection) throws {
        try state.withLock { state in
            if case .expired = state { throw CancellationError() }
            state = .leased(connection)
        }
    }

    /// The wait or the work on the connection ended: the task is ending, the connection going
    /// back to the pool; the timer must touch neither.
    func release() {
        state.withLock { state in
            switch state {
            case .waiting, .leased: state = .released
            case .idle, .released, .expired: break
            }
        }
    }

    /// The timer's end of the wait.
    func expire() {
        state.withLock { state in
            switch state {
            case .idle:
                state = .expired
            case .waiting(let waiter):
                state = .expired
                waiter.task.cancel()
            case .leased(let connection):
                state = .expired
                connection.close().whenComplete { _ in }
            case .released, .expired:
                break
            }
        }
    }

    var expired: Bool {
        state.withLock { state in
            if case .expired = state { return true }
            return false
        }
    }
}

/// What a database span names: an operation (`SELECT`, `INSERT`, `UPSERT`…) and its main table.
struct DatabaseOperation: Sendable, Equatable {
    let name: String
    let table: String

    static func select(_ table: String) -> Self { Self(name: "SELECT", table: table) }
    static func insert(_ table: String) -> Self { Self(name: "INSERT", table: table) }
    static func upsert(_ table: String) -> Self { Self(name: "UPSERT", table: table) }
    static func update(_ table: String) -> Self { Self(name: "UPDATE", table: table) }
    static func delete(_ table: String) -> Self { Self(name: "DELETE", table: table) }
}

/// No connection could be had, or the work on it did not end, within ``Database/timeout``.
struct DatabaseTimeout: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "the database did not answer within \(limit)" }
}

extension Error {
    /// The SQLSTATE of a server error, such as `23505` for a unique violation.
    var sqlState: String? {
        (self as? PSQLError)?.serverInfo?[.sqlState]
    }
}

/// The pool handed out a connection that had already closed.
struct DatabaseConnectionClosed: Error, CustomStringConvertible {
    var description: String { "the database connection closed before it could be used" }
}

/// Well-known SQLSTATEs the service reacts to.
enum SQLState {
    static let uniqueViolation = "23505"
    static let foreignKeyViolation = "23503"
    static let checkViolation = "23514"
}
