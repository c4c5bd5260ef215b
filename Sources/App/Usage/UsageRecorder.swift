import Foundation
import HTTPTypes
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// A tenant's request counts for one UTC day.
struct UsageCounts: Sendable, Equatable, Codable {
    var requests: Int64 = 0
    var clientErrors: Int64 = 0
    var serverErrors: Int64 = 0
    var rateLimited: Int64 = 0

    enum CodingKeys: String, CodingKey {
        case requests
        case clientErrors = "client_errors"
        case serverErrors = "server_errors"
        case rateLimited = "rate_limited"
    }

    mutating func add(_ other: UsageCounts) {
        requests += other.requests
        clientErrors += other.clientErrors
        serverErrors += other.serverErrors
        rateLimited += other.rateLimited
    }

    mutating func count(status: HTTPResponse.Status) {
        requests += 1
        if status == .tooManyRequests {
            rateLimited += 1
        } else if status.kind == .clientError {
            clientErrors += 1
        } else if status.kind == .serverError {
            serverErrors += 1
        }
    }
}

/// Counts each tenant's requests in memory and adds them to `usage_daily` every few seconds, so
/// the request path never writes to the database for accounting.
final class UsageRecorder: Sendable {
    struct Key: Hashable, Sendable {
        var tenant: UUID
        /// Days since 1970-01-01, UTC.
        var day: Int
    }

    private let database: Database
    /// Counts not yet sent, and batches whose flush failed, each kept with its id until it is
    /// known to be applied.
    private let state = Mutex<(pending: [Key: UsageCounts], failed: [Batch])>(([:], []))
    private let flushInterval: Duration
    private let logger: Logger

    init(database: Database, flushInterval: Duration, logger: Logger) {
        self.database = database
        self.flushInterval = flushInterval
        self.logger = logger
    }

    static func day(of date: Date) -> Int {
        Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    func record(tenant: UUID, status: HTTPResponse.Status, at date: Date = Date()) {
        let key = Key(tenant: tenant, day: Self.day(of: date))
        state.withLock { $0.pending[key, default: UsageCounts()].count(status: status) }
    }

    /// One tenant's counts sent in one transaction, under an id that makes sending it again harmless.
    struct Batch: Sendable {
        var id = UUID()
        var tenant: UUID
        var counts: [Key: UsageCounts]
    }

    /// Adds what is pending to the database, retrying failed batches first, as they were.
    func flush() async {
        let batches = state.withLock { state in
            defer {
                state.pending.removeAll(keepingCapacity: true)
                state.failed.removeAll()
            }
            return state.failed
                + Dictionary(grouping: state.pending, by: { $0.key.tenant }).map { tenant, entries in
                    Batch(tenant: tenant, counts: Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.value) }))
                }
        }
        for batch in batches {
            do {
                try await apply(batch)
            } catch {
                logger.warning("usage flush failed; will retry", metadata: ["error": "\(String(reflecting: error))"])
                state.withLock { $0.failed.append(batch) }
            }
        }
    }

    /// Adds `batch`'s counts unless a transaction already did: its id is recorded with them.
    /// Returns whether it added them.
    @discardableResult
    func apply(_ batch: Batch) async throws -> Bool {
        try await database.withTenant(.trusted(batch.tenant), .upsert("usage_daily"), logger: logger) { connection in
            let recorded = try await connection.query(
                """
                INSERT INTO usage_flushes (flush_id) VALUES (\(batch.id)) ON CONFLICT DO NOTHING RETURNING 1
                """,
                logger: logger
            ).collect()
            guard !recorded.isEmpty else { return false }
            try await connection.query(
                """
                DELETE FROM usage_flushes WHERE tenant_id = runway_current_tenant() AND flushed_at < now() - interval '1 day'
                """,
                logger: logger
            )
            for (key, counts) in batch.counts {
                let day = Date(timeIntervalSince1970: Double(key.day) * 86_400)
                try await connection.query(
                    """
                    INSERT INTO usage_daily AS u (day, requests, client_errors, server_errors, rate_limited)
                    VALUES ((\(day) AT TIME ZONE 'UTC')::date, \(counts.requests), \(counts.clientErrors),
                            \(counts.serverErrors), \(counts.rateLimited))
                    ON CONFLICT (tenant_id, day) DO UPDATE SET
                        requests = u.requests + EXCLUDED.requests,
                        client_errors = u.client_errors + EXCLUDED.client_errors,
                        server_errors = u.server_errors + EXCLUDED.server_errors,
                        rate_limited = u.rate_limited + EXCLUDED.rate_limited
                    """,
                    logger: logger
                )
            }
            return true
        }
    }

    /// The scope's tenant's counts from `fromDay` on (inclusive), flushed and pending, by day.
    func usage(scope: TenantScope, fromDay: Int, logger: Logger) async throws -> [(day: Int, counts: UsageCounts)] {
        let tenant = scope.tenant
        let from = Date(timeIntervalSince1970: Double(fromDay) * 86_400)
        var byDay: [Int: UsageCounts] = try await database.withTenant(scope, .select("usage_daily"), logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT (extract(epoch FROM day::timestamp) / 86400)::bigint, requests, client_errors, server_errors, rate_limited
                FROM usage_daily WHERE tenant_id = runway_current_tenant() AND day >= (\(from) AT TIME ZONE 'UTC')::date
                """,
                logger: logger
            )
            var byDay: [Int: UsageCounts] = [:]
            for try await (day, r, c, s, l) in rows.decode((Int64, Int64, Int64, Int64, Int64).self) {
                byDay[Int(day)] = UsageCounts(requests: r, clientErrors: c, serverErrors: s, rateLimited: l)
            }
            return byDay
        }
        state.withLock { state in
            let failed = state.failed.filter { $0.tenant == tenant }.flatMap(\.counts)
            for (key, counts) in Array(state.pending) + failed where key.tenant == tenant && key.day >= fromDay {
                byDay[key.day, default: UsageCounts()].add(counts)
            }
        }
        return byDay.sorted { $0.key < $1.key }.map { (day: $0.key, counts: $0.value) }
    }
}

/// Flushes the ``UsageRecorder`` on an interval, and once more at shutdown.
struct UsageFlushService: Service {
    let recorder: UsageRecorder
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                await recorder.flush()
            }
        }
        // Services listed after this one (the HTTP servers) have stopped: count everything.
        await recorder.flush()
    }
}
