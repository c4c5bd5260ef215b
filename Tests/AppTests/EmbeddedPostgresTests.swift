import Foundation
import Logging
import PostgresNIO
import Testing

@testable import App

@Suite struct EmbeddedPostgresTests {
    @Test func theEmbeddedClusterIsCreatedSharedAndStoppedByItsLastUser() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("runway-embedded-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        chmod(folder, 0o755)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = RunwayConfiguration(environment: [:])
        configuration.dataDirectory = folder + "/data"
        let logger = TestDatabase.logger

        // The first user creates, starts, migrates; the service role is not privileged.
        let first = try await DatabaseBootstrap.prepare(configuration: configuration, logger: logger)
        let cluster = try #require(first.embedded)
        #expect(first.endpoint.username == EmbeddedPostgres.appRole)
        try await DatabaseBootstrap.checkServiceRole(first.endpoint, logger: logger)
        // No TCP: the socket lives in the data directory.
        #expect(FileManager.default.fileExists(atPath: cluster.socketPath))
        let settings = try String(contentsOfFile: cluster.clusterDirectory + "/postgresql.conf", encoding: .utf8)
        #expect(settings.contains("listen_addresses = ''"))

        // A second user (a CLI command while serve runs) shares it.
        let second = try await DatabaseBootstrap.prepare(configuration: configuration, logger: logger)
        await first.embedded?.release()
        let tenants = try await DatabaseBootstrap.withClient(second.endpoint, logger: logger) { client in
            try await TenantStore(database: Database(client: client)).listTenants(logger: logger)
        }
        #expect(tenants.isEmpty)
        await second.embedded?.release()
        let status = try await Subprocess.run(
            [cluster.binDirectory + "/pg_ctl", "status", "-D", cluster.clusterDirectory],
            as: cluster.osUser,
            allowedStatuses: [0, 3]
        )
        #expect(status.status == 3, "still running after the last user let go: \(status.output)")
    }
}
