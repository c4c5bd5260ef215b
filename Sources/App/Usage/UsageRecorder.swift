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
    private let pending = Mutex<[Key: UsageCounts]>([:])
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
        pending.withLock { $0[key, default: UsageCounts()].count(status: status) }
    }

    /// Adds what is pending to the database; on failure the counts go back to wait for the next try.
    func flush() async {
        let batch = pending.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !batch.isEmpty else { return }
        for (tenant, entries) in Dictionary(grouping: batch, by: { $0.key.tenant }) {
            do {
                try await database.withTenant(.trusted(tenant), .upsert("usage_daily"), logger: logger) { connection in
                    for (key, counts) in entries {
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
                }
            } catch {
                logger.warning("usage flush failed; will retry", metadata: ["error": "\(String(reflecting: error))"])
                pending.withLock { pending in
                    for (key, counts) in entries { pending[key, default: UsageCounts()].add(counts) }
                }
            }
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
        pending.withLock { pending in
            for (key, counts) in pending where key.tenant == tenant && key.day >= fromDay {
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
