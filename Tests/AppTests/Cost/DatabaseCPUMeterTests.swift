import CostMeter
import Foundation
import PostgresNIO
import Testing

@testable import App

/// Each tenant transaction's backend CPU goes to its tenant, read from that connection's own
/// backend, with a pool per event loop as `serve` runs them.
@Suite struct DatabaseCPUMeterTests {
    /// Two pools number their connections alike (PostgresNIO counts from 0 in each pool): the
    /// second pool's connection must not be read from the first one's backend.
    @Test func connectionsOfTwoPoolsAreReadFromTheirOwnBackends() async throws {
        let meter = CostMeter(configuration: .init(instance: "db-meter-\(UUID().uuidString.prefix(8))"))
        let observer = DatabaseCPUMeter(meter: meter)
        let logger = TestDatabase.logger
        let (idle, busy) = (UUID(), UUID())
        try await TestDatabase.withServiceClient(maxConnections: 1, databaseTimeout: .seconds(30)) { first in
            try await TestDatabase.withServiceClient(maxConnections: 1, databaseTimeout: .seconds(30)) { second in
                try await first.withConnection { connection in
                    try await observer.observe(tenant: idle, connection: connection, logger: logger) {
                        _ = try await connection.query("SELECT 1", logger: logger).collect()
                    }
                }
                try await second.withConnection { connection in
                    try await observer.observe(tenant: busy, connection: connection, logger: logger) {
                        _ = try await connection.query("SELECT count(*) FROM generate_series(1, 3000000)", logger: logger).collect()
                    }
                }
            }
        }
        try #require(meter.databaseMetering.enabled, "the test's PostgreSQL runs on this machine")
        let burnt = meter.account(for: busy).usage.databaseCPUNanoseconds
        #expect(burnt > 20_000_000, "the busy backend's CPU (\(burnt) ns) is its tenant's")
        #expect(meter.account(for: idle).usage.databaseCPUNanoseconds < burnt / 10)
    }
}
