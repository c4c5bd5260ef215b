import Foundation
import HTTPServerTesting
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@testable import App
@testable import CostMeter

/// Every request is on somebody's bill, whatever its outcome: refusals on the tenant's, requests
/// naming no tenant on the unauthenticated row, probes and scrapes on the platform's.
@Suite struct RequestBillingTests {
    /// The public API as `serve` runs it: every request on the server's metered executor.
    static func meteredServer(_ app: TestApp) -> some ApplicationProtocol {
        Application(
            metered: buildPublicRouter(services: app.services, rateLimiter: app.rateLimiter),
            by: app.services.meter,
            defaultPayer: .unauthenticated,
            logger: TestDatabase.logger
        )
    }

    /// `key` with its last character changed: the same key id, the wrong secret.
    static func wrongSecret(_ key: String) -> String {
        String(key.dropLast()) + (key.hasSuffix("A") ? "B" : "A")
    }

    @Test func aTenantThatOnlyGets429sIsBilledForThem() async throws {
        let app = try await TestApp()
        let (tenant, key) = try await app.makeTenant(plan: "free")  // burst 20
        let statuses = try await app.withPublicClient { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<20 { statuses.append(try await client.send(.get, "/v1/collections", key: key).status) }
            let before = app.services.meter.account(for: tenant.id).usage
            for _ in 0..<10 { statuses.append(try await client.send(.get, "/v1/collections", key: key).status) }
            let after = app.services.meter.account(for: tenant.id).usage
            #expect(after.requests - before.requests == 10)
            #expect(after.appCPUNanoseconds > before.appCPUNanoseconds, "refused requests cost CPU too")
            return statuses
        }
        #expect(statuses.filter { $0 == .tooManyRequests }.count == 10)
    }

    @Test func aWrongSecretIsBilledToTheTenantItsKeyIDNames() async throws {
        let app = try await TestApp()
        let (tenant, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            // Once cold (looked up in the database), once with the key id cached.
            let cold = try await client.send(.get, "/v1/collections", key: Self.wrongSecret(key))
            try cold.expectProblem(.unauthorized, "unauthorized")
            try await #expect(client.send(.get, "/v1/collections", key: key).status == .ok)
            let cached = try await client.send(.get, "/v1/collections", key: Self.wrongSecret(key))
            try cached.expectProblem(.unauthorized, "unauthorized")
        }
        #expect(app.services.meter.account(for: tenant.id).usage.requests == 3)
        #expect(app.services.meter.account(for: .unauthenticated).usage.requests == 0)
    }

    /// A key look-up in the database (a cache miss) is measured on the request that caused it,
    /// before anyone knows whose it is: an unknown key id's on the unauthenticated row, a wrong
    /// secret's on the tenant its key id names. Neither reaches a tenant transaction.
    @Test func aKeyLookUpsDatabaseCPUIsTheRequestsThatMissedTheCache() async throws {
        let app = try await TestApp()
        let (tenant, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            try await #expect(client.send(.get, "/v1/collections", key: APIKey.generate().value).status == .unauthorized)
            try await #expect(client.send(.get, "/v1/collections", key: Self.wrongSecret(key)).status == .unauthorized)
        }
        let meter = app.services.meter
        #expect(meter.account(for: .unauthenticated).usage.databaseCPUNanoseconds > 0)
        let billed = meter.account(for: tenant.id).usage
        #expect(billed.requests == 1 && billed.databaseCPUNanoseconds > 0)
    }

    @Test func requestsNamingNoTenantLandInTheUnauthenticatedRow() async throws {
        let app = try await TestApp()
        try await app.withPublicClient { client in
            try await #expect(client.send(.get, "/v1/collections", key: nil).status == .unauthorized)
            try await #expect(client.send(.get, "/v1/collections", key: "not-a-key").status == .unauthorized)
            try await #expect(client.send(.get, "/v1/collections", key: APIKey.generate().value).status == .unauthorized)
            try await #expect(client.send(.get, "/nowhere", key: nil).status == .notFound)
            try await #expect(client.send(.get, "/healthz", key: nil).status == .ok)
        }
        let meter = app.services.meter
        let unauthenticated = meter.account(for: .unauthenticated).usage
        #expect(unauthenticated.requests == 4)
        #expect(unauthenticated.appCPUNanoseconds > 0)
        #expect(meter.account(for: .admin).usage.requests == 1, "a health probe is the platform's")
        #expect(meter.usageByTenant().isEmpty)

        let rows = LedgerCollector(meter: meter).collect()
        let row = try #require(rows.first { $0.kind == .unauthenticated })
        #expect(row.requests == 4 && row.tenant == nil && row.costMicros >= 0)
        #expect(rows.contains { $0.kind == .overhead && $0.item == .admin && $0.requests == 1 })
        #expect(rows.contains { $0.kind == .overhead && $0.item == .background })
    }

    @Test func theLedgerStoresAndReportsTheNewRows() async throws {
        let app = try await TestApp()
        let instance = "billing-\(UUID().uuidString.prefix(8))"
        let hour = CostLedgerTests.uniqueHour()
        let clocks = ManualMeterClocks(wall: hour, database: 0)
        let meter = CostMeter(configuration: CostMeterConfiguration(instance: instance))
        let collector = LedgerCollector(meter: meter, clocks: clocks, sharesUnmeasuredCPU: true)
        let tenant = UUID()
        meter.account(for: tenant).add(Usage(appCPUNanoseconds: 3_000_000, requests: 3))
        meter.account(for: .unauthenticated).add(Usage(appCPUNanoseconds: 1_000_000, requests: 1))
        meter.account(for: .admin).add(Usage(appCPUNanoseconds: 500_000, requests: 1))
        // 1 ms of the database's 8 ms was its checkpointer's: an overhead item of its own.
        clocks.advance(
            wall: 10 * CostLedgerTests.second,
            processCPU: 9_500_000,
            databaseCPU: 8_000_000,
            databaseBackground: [.checkpoints: 1_000_000]
        )
        let rows = collector.collect()
        try await CostLedgerTests.store().write(rows)
        try await CostLedgerTests.store().write(rows)  // a replay is stored once
        let report = try await CostReport.load(
            database: app.services.database,
            from: CostLedgerTests.date(hour),
            to: CostLedgerTests.date(hour + 3_600 * CostLedgerTests.second),
            logger: TestDatabase.logger
        )
        let lines = report.lines.filter { $0.kind != "tenant" || $0.tenantID == tenant }
        #expect(lines.map(\.kind) == ["tenant", "unauthenticated", "overhead", "overhead", "overhead", "idle"])
        #expect(lines.map(\.item) == [nil, nil, "admin", "background", "checkpoints", nil])
        #expect(lines[4].databaseCPUNanoseconds == 1_000_000)
        // No idle tick was seen, so no background rate is known: all unmeasured CPU (5 ms of app,
        // 7 ms of database) was shared among the 5 requests by count.
        #expect(lines[0].appCPUNanoseconds == 6_000_000 && lines[0].databaseCPUNanoseconds == 4_200_000)
        #expect(lines[1].appCPUNanoseconds == 2_000_000 && lines[1].databaseCPUNanoseconds == 1_400_000)
        #expect(report.csv.split(separator: "\r\n").contains { $0.hasPrefix("overhead,,,,1,") && $0.hasSuffix(",admin") })
        let hourly = try await TestDatabase.get().client.query(
            "SELECT instance_micros, unauthenticated_micros FROM cost_instance_hourly WHERE instance = \(instance)",
            logger: TestDatabase.logger
        )
        for try await (total, unauthenticated) in hourly.decode((Int64, Int64).self) {
            #expect(total == rows.reduce(0) { $0 + $1.costMicros })
            #expect(unauthenticated == lines[1].costMicros)
        }
    }

    @Test func aSecondLiveBootUnderOneInstanceNameIsRefused() async throws {
        let endpoint = try TestDatabase.superuserEndpoint(database: try await TestDatabase.get().databaseName)
        let name = "lease-\(UUID().uuidString.prefix(8))"
        let first = try await InstanceLease.acquire(instance: name, endpoint: endpoint, logger: TestDatabase.logger)
        await #expect(throws: InstanceLease.Taken.self) {
            try await InstanceLease.acquire(instance: name, endpoint: endpoint, logger: TestDatabase.logger)
        }
        let other = try await InstanceLease.acquire(instance: name + "-b", endpoint: endpoint, logger: TestDatabase.logger)
        await other.release()
        await first.release()
        // Given back (as when the process ends): the next boot under that name takes it.
        let next = try await InstanceLease.acquire(instance: name, endpoint: endpoint, logger: TestDatabase.logger)
        await next.release()
    }

    @Test func theServerMetersEachRequestOnceFromItsHeadToItsResponse() async throws {
        let app = try await TestApp()
        let (tenant, key) = try await app.makeTenant()
        let meter = app.services.meter
        try await withLoopbackServer(Self.meteredServer(app)) { port in
            let listed = try await offCooperativePool {
                try OversizedBodyTests.exchange(
                    port: port,
                    send: "GET /v1/collections HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\n\r\n"
                )
            }
            #expect(listed.hasPrefix("HTTP/1.1 200"), "\(listed)")
            let refused = try await offCooperativePool {
                try OversizedBodyTests.exchange(port: port, send: "GET /v1/collections HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            }
            #expect(refused.hasPrefix("HTTP/1.1 401"), "\(refused)")
        }
        // Counted once each (the server's executor, not a second one from the middleware), with
        // the CPU of writing the response on the bill.
        let usage = meter.account(for: tenant.id).usage
        #expect(usage.requests == 1 && usage.appCPUNanoseconds > 0 && usage.databaseCPUNanoseconds > 0)
        #expect(meter.account(for: .unauthenticated).usage.requests == 1)
    }

    /// Requests in turn on one keep-alive connection, of two tenants and of nobody: each is its own
    /// payer's, whatever ran for the connection between them.
    @Test func requestsInTurnOnOneConnectionAreEachBilledToTheirOwnPayer() async throws {
        let app = try await TestApp()
        let (first, firstKey) = try await app.makeTenant()
        let (second, secondKey) = try await app.makeTenant()
        let meter = app.services.meter
        let unauthenticated = meter.account(for: .unauthenticated).usage.requests
        try await withLoopbackServer(Self.meteredServer(app)) { port in
            let statuses = try await offCooperativePool {
                let connection = try RawConnection(port: port)
                return try [firstKey, secondKey, nil, firstKey].map { key in
                    let authorization = key.map { "Authorization: Bearer \($0)\r\n" } ?? ""
                    try connection.send("GET /v1/collections HTTP/1.1\r\nHost: 127.0.0.1\r\n\(authorization)\r\n")
                    return String(try connection.readResponse().prefix(12))
                }
            }
            #expect(statuses == ["HTTP/1.1 200", "HTTP/1.1 200", "HTTP/1.1 401", "HTTP/1.1 200"])
        }
        let (firstUsage, secondUsage) = (meter.account(for: first.id).usage, meter.account(for: second.id).usage)
        #expect(firstUsage.requests == 2 && firstUsage.appCPUNanoseconds > 0 && firstUsage.databaseCPUNanoseconds > 0)
        #expect(secondUsage.requests == 1 && secondUsage.appCPUNanoseconds > 0 && secondUsage.databaseCPUNanoseconds > 0)
        #expect(meter.account(for: .unauthenticated).usage.requests - unauthenticated == 1)
    }
}
