import Foundation
import Synchronization

/// Measures each tenant's CPU — in this process and in the co-located PostgreSQL — and keeps the
/// totals the ledger prices.
///
/// ```swift
/// let meter = CostMeter(configuration: .init(instance: "web-1"))
/// let (response, cost) = try await meter.run(tenant: id) { try await handle(request) }
/// ```
package final class CostMeter: Sendable {
    package let configuration: CostMeterConfiguration
    package let pool: MeteringPool
    private let accounts = Mutex<[Payer: CostAccount]>([:])
    // Every request without a tenant ends on one of these: kept at hand, not looked up.
    private let unauthenticated = CostAccount(payer: .unauthenticated)
    private let admin = CostAccount(payer: .admin)
    private let telemetry = CostAccount(payer: .telemetry)
    private let flushes = CostAccount(payer: .flushes)
    /// The co-located database cluster's CPU, once the database layer has found it.
    package let databaseCluster = DatabaseClusterCPU()
    private let database = Mutex(DatabaseMetering.unknown)
    let totals = Mutex(CostTotals())

    /// - Parameter pool: the worker threads; default the process's ``MeteringPool/shared``.
    package init(configuration: CostMeterConfiguration, pool: MeteringPool = .shared) {
        self.configuration = configuration
        self.pool = pool
    }

    /// The tenant's running totals (created on first use; kept for the life of the process).
    package func account(for tenant: UUID) -> CostAccount { account(for: .tenant(tenant)) }

    /// The payer's running totals (created on first use; kept for the life of the process).
    package func account(for payer: Payer) -> CostAccount {
        switch payer {
        case .unauthenticated: return unauthenticated
        case .admin: return admin
        case .telemetry: return telemetry
        case .flushes: return flushes
        case .tenant:
            return accounts.withLock { accounts in
                if let account = accounts[payer] { return account }
                let account = CostAccount(payer: payer)
                accounts[payer] = account
                return account
            }
        }
    }

    /// A new executor for one request of `tenant`.
    package func executor(for tenant: UUID) -> MeteredExecutor {
        MeteredExecutor(account: account(for: tenant), pool: pool)
    }

    /// An executor for `payer`'s work that is not a request (the exporters', the flushes'): every job's
    /// CPU goes to the payer's account as it is credited, and no request is counted.
    package func standingExecutor(for payer: Payer) -> MeteredExecutor {
        MeteredExecutor(account: account(for: payer), pool: pool, standing: true)
    }

    /// A new executor for one request whose payer is not known yet: name it with
    /// ``MeteredExecutor/bill(_:)`` once it is.
    package func requestExecutor() -> MeteredExecutor {
        MeteredExecutor(account: nil, pool: pool)
    }

    /// Runs one request of `tenant` on a metered executor: its jobs and its child tasks' jobs are
    /// credited to the tenant, and the request is counted. Returns the request's own CPU too.
    package func run<Result: Sendable>(
        tenant: UUID,
        _ body: () async throws -> Result
    ) async throws -> (result: Result, usage: Usage) {
        let executor = executor(for: tenant)
        let result = try await run(on: executor) {
            // Settled before returning, so the usage returned is complete.
            defer { MeteringPool.settleCurrentThread() }
            return try await body()
        }
        return (result, executor.usage)
    }

    /// Runs one request on `executor` (from ``executor(for:)`` or ``requestExecutor()``) and
    /// counts it, for `defaultPayer` when nobody billed the executor by then. The CPU of the job
    /// that returns is credited when that job ends (to the payer); the executor's
    /// ``MeteredExecutor/usage`` is the request's CPU up to the last clock read.
    package func run<Result: Sendable>(
        on executor: MeteredExecutor,
        defaultPayer: Payer = .unauthenticated,
        _ body: () async throws -> Result
    ) async throws -> Result {
        defer { executor.finish(defaultPayer: account(for: defaultPayer)) }
        return try await MeteredExecutor.$current.withValue(executor) {
            guard configuration.metersRequests else { return try await body() }
            return try await withTaskExecutorPreference(executor, operation: body)
        }
    }

    /// Starts one request as a task of its own on a new metered executor: ``run(on:defaultPayer:_:)``
    /// for a server that hands requests over from a channel handler, with no task to hop from.
    /// With the meter off the task runs on the pool's ``MeteringPool/platformExecutor``, so that it
    /// runs where it would metered, on the event loop that started it.
    package func startRequest(defaultPayer: Payer, _ body: @escaping @Sendable () async -> Void) {
        let executor = requestExecutor()
        Task(executorPreference: configuration.metersRequests ? executor : pool.platformExecutor) {
            // Already on the executor: `run` enters it without a hop.
            try? await self.run(on: executor, defaultPayer: defaultPayer, body)
        }
    }

    /// Starts an unstructured task that stays on the current request's tenant's bill (a plain
    /// `Task {}` does not inherit the executor, and its CPU would be platform overhead).
    @discardableResult
    package static func task<Success: Sendable>(
        priority: TaskPriority? = nil,
        operation: sending @escaping () async throws -> Success
    ) -> Task<Success, any Error> {
        Task(executorPreference: MeteredExecutor.current, priority: priority, operation: operation)
    }

    /// Credits `nanoseconds` of database backend CPU to the current request, whoever it is billed
    /// to (or will be: a key look-up runs before the request knows its payer). Nothing outside a
    /// request.
    package func creditDatabaseToCurrentRequest(nanoseconds: Int64) {
        MeteredExecutor.current?.creditDatabase(nanoseconds)
    }

    /// Credits `nanoseconds` of database backend CPU to `tenant`, and to the current request if
    /// it is that tenant's.
    package func creditDatabase(tenant: UUID, nanoseconds: Int64) {
        guard nanoseconds > 0 else { return }
        if let current = MeteredExecutor.current, current.tenant == tenant {
            current.creditDatabase(nanoseconds)
        } else {
            account(for: tenant).add(Usage(databaseCPUNanoseconds: nanoseconds))
        }
    }

    /// Whether database CPU is measured, and why (or why not).
    package var databaseMetering: DatabaseMetering {
        get { database.withLock { $0 } }
    }

    package func setDatabaseMetering(_ status: DatabaseMetering) {
        database.withLock { $0 = status }
    }

    /// Every tenant's running totals now.
    package func usageByTenant() -> [UUID: Usage] {
        var usage: [UUID: Usage] = [:]
        for account in allAccounts() {
            if let tenant = account.tenant { usage[tenant] = account.usage }
        }
        return usage
    }

    /// Every payer's account: the tenants' and the others'.
    func allAccounts() -> [CostAccount] { accounts.withLock { Array($0.values) } + [unauthenticated, admin, telemetry, flushes] }

    /// Totals priced into the ledger so far, by kind (for metrics: no per-tenant series).
    package var snapshot: CostTotals { totals.withLock { $0 } }

    /// A request's CPU priced at the current rate, in micro-dollars (fractional: a request costs
    /// far less than one). For log lines; the ledger is the record.
    package func estimatedCostMicros(_ usage: Usage, at instant: Int64 = CPUClock.wall()) -> Double {
        guard let price = configuration.price(at: instant) else { return 0 }
        return Double(usage.cpuNanoseconds) * Double(price.microsPerHour) / (Double(price.vcpus) * 3.6e12)
    }
}

/// Whether the co-located database's backend CPU is metered.
package struct DatabaseMetering: Sendable, Equatable {
    package var enabled: Bool
    package var reason: String

    package init(enabled: Bool, reason: String) {
        self.enabled = enabled
        self.reason = reason
    }

    /// Before the first tenant transaction: no database CPU has gone unmetered yet, so rows
    /// closed until then are complete (a ledger row says `db_metered = false` only when tenant
    /// transactions ran that could not be measured).
    package static let unknown = DatabaseMetering(enabled: true, reason: "no tenant transaction yet")
}
