import CostMeter
import PostgresNIO
import Testing

@testable import App

/// The test cluster's own background processes are found by their titles, and a checkpoint shows
/// on the checkpointer's item.
@Suite struct DatabaseBackgroundTests {
    @Test func aRealClustersBackgroundProcessesAreFoundAndACheckpointShows() async throws {
        let shared = try await TestDatabase.get()
        let logger = TestDatabase.logger
        let rows = try await shared.superuser.query("SELECT pg_backend_pid()", logger: logger).collect()
        let backend = try #require(try rows.first?.decode(Int32.self))
        let postmaster = try #require(DatabaseClusterCPU.parent(of: backend))
        let cluster = DatabaseClusterCPU()
        cluster.attach(postmaster: postmaster)
        let before = try #require(cluster.reading())
        try await shared.superuser.query("CHECKPOINT", logger: logger)
        let after = try #require(cluster.reading())
        #expect(Set(after.background.keys).isSuperset(of: [.checkpoints, .walWriter, .autovacuum]))
        #expect((after.background[.checkpoints] ?? 0) > 0, "the checkpointer ran the checkpoint")
        #expect(after.total - before.total >= after.background.values.reduce(0, +))
    }
}
