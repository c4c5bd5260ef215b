import CostMeter
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Credits each tenant transaction's PostgreSQL backend CPU to its tenant, and the backend CPU of
/// a request's other statements (a key look-up on a cache miss, the admin API's) to that request,
/// whoever it is billed to: the backend's pid comes from `pg_backend_pid()` once per connection,
/// its CPU from `/proc/<pid>/schedstat` (kept open per connection) at the start and end of the
/// work.
///
/// The first connection decides whether the backends are visible here; if not (a remote
/// database, or another PID namespace), this part of the meter is off, logged once, and flagged
/// on every ledger row (`db_metered = false`).
final class DatabaseCPUMeter: TenantWorkObserver {
    private struct State {
        /// By connection object, not `PostgresConnection.ID`: each pool (one per event loop)
        /// numbers its connections from 0, so two pools' connections share ids. The weak reference
        /// tells a reader of a connection since freed from one of a new connection at its address.
        var readers: [ObjectIdentifier: Known] = [:]
        var enabled: Bool?
    }

    private struct Known {
        weak var connection: PostgresConnection?
        let reader: BackendCPU.Reader
    }

    /// Readers of connections the pool has since closed are never read again; past this many the
    /// map starts afresh (closing their descriptors), so connection churn cannot leak them.
    static let maximumReaders = 256

    let meter: CostMeter
    let procRoot: String
    private let state = Mutex(State())

    init(meter: CostMeter, procRoot: String = "/proc") {
        self.meter = meter
        self.procRoot = procRoot
    }

    /// Runs `body` on `connection` and credits the backend CPU it took to `tenant`.
    func observe<Result: Sendable>(
        tenant: UUID,
        connection: PostgresConnection,
        logger: Logger,
        _ body: () async throws -> Result
    ) async throws -> Result {
        try await measure(connection: connection, logger: logger, body) { meter.creditDatabase(tenant: tenant, nanoseconds: $0) }
    }

    /// Outside a request (the background services' statements) `body` runs unobserved: what no
    /// request caused is not measured here.
    func observeForCurrentRequest<Result: Sendable>(
        connection: PostgresConnection,
        logger: Logger,
        _ body: () async throws -> Result
    ) async throws -> Result {
        guard MeteredExecutor.current != nil else { return try await body() }
        return try await measure(connection: connection, logger: logger, body) { meter.creditDatabaseToCurrentRequest(nanoseconds: $0) }
    }

    /// Runs `body` and gives `credit` the backend CPU it took, when it can be read.
    private func measure<Result: Sendable>(
        connection: PostgresConnection,
        logger: Logger,
        _ body: () async throws -> Result,
        credit: (Int64) -> Void
    ) async throws -> Result {
        guard meter.configuration.metersRequests, let reader = await reader(for: connection, logger: logger),
            let before = reader.read()
        else { return try await body() }
        defer {
            if let after = reader.read() { credit(after - before) }
        }
        return try await body()
    }

    private func reader(for connection: PostgresConnection, logger: Logger) async -> BackendCPU.Reader? {
        let (known, enabled) = state.withLock { ($0.readers[ObjectIdentifier(connection)], $0.enabled) }
        if enabled == false { return nil }
        if let known, known.connection === connection { return known.reader }
        guard let pid = try? await connection.query("SELECT pg_backend_pid()", logger: logger).collect().first?.decode(Int32.self)
        else { return nil }
        let decision = state.withLock { state -> (Bool, Bool) in
            if let enabled = state.enabled { return (enabled, false) }
            let visible = BackendCPU.probe(pid: pid, procRoot: procRoot)
            state.enabled = visible.visible
            meter.setDatabaseMetering(DatabaseMetering(enabled: visible.visible, reason: visible.reason))
            // The backend's parent is the postmaster: the whole cluster's CPU is read from there.
            if visible.visible, let postmaster = DatabaseClusterCPU.parent(of: pid, procRoot: procRoot) {
                meter.databaseCluster.attach(postmaster: postmaster, procRoot: procRoot)
            }
            return (visible.visible, true)
        }
        if decision.1 {
            let reason = meter.databaseMetering.reason
            if decision.0 {
                logger.notice("database CPU is metered per tenant", metadata: ["how": "\(reason)"])
            } else {
                logger.warning("database CPU is not metered: ledger rows say db_metered=false", metadata: ["why": "\(reason)"])
            }
        }
        guard decision.0, let reader = BackendCPU.Reader(pid: pid, procRoot: procRoot) else { return nil }
        state.withLock { state in
            if state.readers.count >= Self.maximumReaders { state.readers.removeAll() }
            state.readers[ObjectIdentifier(connection)] = Known(connection: connection, reader: reader)
        }
        return reader
    }
}
