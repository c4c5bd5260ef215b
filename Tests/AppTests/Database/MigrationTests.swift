import Foundation
import Logging
import PostgresNIO
import Testing

@testable import App

@Suite struct MigrationTests {
    @Test func instancesMigratingTogetherApplyEachVersionOnce() async throws {
        let name = try await TestDatabase.createDatabase(prefix: "migrate")
        let owner = try TestDatabase.superuserEndpoint(database: name)
        let logger = TestDatabase.logger
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await DatabaseBootstrap.withClient(owner, logger: logger) { client in
                        try await Migrator.migrate(client: client, logger: logger)
                    }
                }
            }
            var all: [Int] = []
            for try await versions in group { all += versions }
            return all
        }
        #expect(applied.sorted() == Migration.all.map(\.version))
        let again = try await DatabaseBootstrap.withClient(owner, logger: logger) { client in
            try await Migrator.migrate(client: client, logger: logger)
        }
        #expect(again.isEmpty)
        let rows = try await DatabaseBootstrap.withClient(owner, logger: logger) { client in
            try await client.query("SELECT count(*) FROM runway_schema_migrations", logger: logger).collect().first?.decode(Int64.self)
        }
        #expect(rows == Int64(Migration.all.count))
    }
}
