import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import TelemetryTesting
import Testing

@testable import App

#if canImport(Glibc)
    import Glibc
#endif

/// A whole database cluster that stops answering (its postmaster and backends stopped, as when
/// its host freezes) under concurrent reads and writes: every request is answered, 503 at worst.
/// Each request's 5 s bound is how the test fails rather than hangs: before connections closed by
/// the timeout were refused (``DatabaseConnectionClosed``), one of them, handed to the next
/// request, kept that request waiting for ever.
@Suite struct FrozenClusterTests {
    @Test(.timeLimit(.minutes(2)))
    func everyRequestIsAnsweredWhileTheClusterIsFrozen() async throws {
        try await TestDatabase.withTemporaryDataDirectory { configuration in
            let prepared = try await DatabaseBootstrap.prepare(configuration: configuration, logger: TestDatabase.logger)
            let cluster = try #require(prepared.embedded)
            do {
                try await freezeUnderLoad(cluster: cluster, endpoint: prepared.endpoint)
            } catch {
                await cluster.release()
                throw error
            }
            await cluster.release()
        }
    }
    private func freezeUnderLoad(cluster: EmbeddedPostgres, endpoint: DatabaseEndpoint) async throws {
        let logger = TestDatabase.logger
        let timeout = Duration.milliseconds(500)
        let client = PostgresClient(
            configuration: endpoint.clientConfiguration(maxConnections: 2, statementTimeout: Database.statementTimeout(for: timeout)),
            backgroundLogger: logger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let app = try await TestApp(client: client, databaseTimeout: timeout)
            let (_, key) = try await app.makeTenant()
            try await app.withPublicClient { http in
                _ = try await http.send(.post, "/v1/collections", key: key, json: #"{"name":"f"}"#)
                _ = try await http.send(.put, "/v1/collections/f/documents/d", key: key, json: #"{"v":1}"#)
                let pidText = try String(contentsOfFile: cluster.clusterDirectory + "/postmaster.pid", encoding: .utf8)
                let postmaster = try #require(Int32(pidText.split(separator: "\n")[0]))
                let children = (try? String(contentsOfFile: "/proc/\(postmaster)/task/\(postmaster)/children", encoding: .utf8)) ?? ""
                let pids = [postmaster] + children.split(separator: " ").compactMap { Int32($0) }
                for pid in pids { kill(pid, SIGSTOP) }
                defer { for pid in pids { kill(pid, SIGCONT) } }
                try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { requests in
                    for i in 0..<12 {
                        requests.addTask {
                            try await withTimeLimit(.seconds(5), "request \(i) while frozen") {
                                i % 2 == 0
                                    ? try await http.send(.get, "/v1/collections/f/documents/d", key: key).status
                                    : try await http.send(.put, "/v1/collections/f/documents/w\(i)", key: key, json: #"{"v":2}"#).status
                            }
                        }
                    }
                    for try await status in requests { #expect(status == .serviceUnavailable) }
                }
            }
        }
    }
}
