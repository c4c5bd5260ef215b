import Foundation
import Logging
import PostgresNIO
import Testing

@testable import App

@Suite struct EmbeddedPostgresTests {
    @Test func theEmbeddedClusterIsCreatedSharedAndStoppedByItsLastUser() async throws {
        try await TestDatabase.withTemporaryDataDirectory { try await createShareAndStop($0) }
    }

    /// As root the cluster runs as `postgres`, which cannot enter a private (0700) folder of
    /// root's: initdb's "Permission denied" comes with what to do about it.
    @Test(.enabled(if: getuid() == 0)) func aDataDirectoryThePostgresUserCannotReachIsExplained() async throws {
        try await TestDatabase.withTemporaryDataDirectory { configuration in
            var configuration = configuration
            let parent = (configuration.dataDirectory as NSString).deletingLastPathComponent + "/private"
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            chmod(parent, 0o700)
            configuration.dataDirectory = parent + "/data"
            await #expect {
                _ = try await DatabaseBootstrap.prepare(configuration: configuration, logger: TestDatabase.logger)
            } throws: { error in
                "\(error)".contains("must be able to reach") && "\(error)".contains("chmod o+x")
            }
        }
    }

    private func createShareAndStop(_ configuration: RunwayConfiguration) async throws {
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
        // Peer authentication, never trust: a role the rules do not map is refused.
        let rules = try String(contentsOfFile: cluster.clusterDirectory + "/pg_hba.conf", encoding: .utf8)
        #expect(!rules.contains("trust") && rules.contains("local all all peer map=runway"))
        try await DatabaseBootstrap.withClient(cluster.endpoint(role: EmbeddedPostgres.superuser), logger: logger) { client in
            try await client.query("CREATE ROLE intruder LOGIN", logger: logger)
        }
        await #expect {
            let connection = try await PostgresConnection.connect(
                configuration: .init(unixSocketPath: cluster.socketPath, username: "intruder", password: nil, database: "runway"),
                id: 1,
                logger: logger
            )
            try await connection.close()
        } throws: { error in
            // 28000 invalid_authorization_specification: peer authentication failed.
            error.sqlState == "28000"
        }

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

/// The embedded cluster's folders are chowned to the user it runs as, looked up while other
/// threads may look up other users. With `getpwnam`, whose answer is shared storage, a CI run
/// started a cluster whose socket folder PostgreSQL could not write to. This checks the
/// reentrant look-ups' answers on several threads at once; the race itself is too rare to
/// reproduce here (a C program making 1.6 million `getpwnam`/`getpwuid` calls on 8 threads got 29
/// wrong answers: `scripts/lib/getpw_race.c`).
@Suite struct SystemUserTests {
    @Test(.enabled(if: getpwnam("postgres") != nil)) func lookUpsOnManyThreadsEachGetTheirOwnUser() async {
        let postgres = SystemUser.named("postgres")
        let root = SystemUser.withID(0)
        #expect(postgres?.uid != 0)
        #expect(root?.name == "root")
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    (0..<2_000).allSatisfy { index in
                        index.isMultiple(of: 2)
                            ? SystemUser.named("postgres")?.uid == postgres?.uid : SystemUser.withID(0)?.name == "root"
                    }
                }
            }
            for await allRight in group { #expect(allRight) }
        }
    }
}
