import CostMeter
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

#if canImport(Glibc)
    import Glibc
#endif

/// A database that does not answer: a statement PostgreSQL cannot finish in time is cancelled by
/// PostgreSQL and rolled back before the client hears 503; a database that answers nothing at all
/// (its backend stopped) still gets the client a 503 within the timeout.
@Suite struct DatabaseTimeoutTests {
    @Test func aWriteStuckBehindALockIsAnswered503AndRolledBack() async throws {
        let shared = try await TestDatabase.get()
        try await TestDatabase.withServiceClient(maxConnections: 2, databaseTimeout: .milliseconds(800)) { client in
            // The tenant made with the default timeout: the pool's first connections may take
            // longer than the short one to open on a busy machine.
            let (tenant, key) = try await TestApp(client: client).makeTenant()
            let app = try await TestApp(client: client, databaseTimeout: .milliseconds(800))
            try await app.withPublicClient { http in
                try await #expect(http.send(.post, "/v1/collections", key: key, json: #"{"name":"locked"}"#).status == .created)
                try await #expect(
                    http.send(.put, "/v1/collections/locked/documents/d", key: key, json: #"{"v":1}"#).status == .created
                )
                // Another session holds the document's row lock while the PUT runs.
                try await shared.superuser.withConnection { holder in
                    try await holder.query("BEGIN", logger: TestDatabase.logger)
                    try await holder.query(
                        "SELECT 1 FROM documents WHERE tenant_id = \(tenant.id) AND collection = 'locked' AND id = 'd' FOR UPDATE",
                        logger: TestDatabase.logger
                    )
                    let stuck = try await http.send(.put, "/v1/collections/locked/documents/d", key: key, json: #"{"v":2}"#)
                    try stuck.expectProblem(.serviceUnavailable, "unavailable")
                    #expect(stuck.headers[.retryAfter] == "1")
                    try await holder.query("ROLLBACK", logger: TestDatabase.logger)
                }
                // PostgreSQL cancelled the statement: its write is not there, now that the lock is gone.
                let read = try await http.send(.get, "/v1/collections/locked/documents/d", key: key)
                #expect(read.status == .ok)
                #expect(try read.object["v"] as? Int == 1, "\(read.text)")
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aDatabaseThatAnswersNothingGets503WithinTheTimeoutAndTheConnectionIsReplaced() async throws {
        try await TestDatabase.withServiceClient(maxConnections: 1, databaseTimeout: .milliseconds(500)) { client in
            // The tenant made with the default timeout, as above.
            let (_, key) = try await TestApp(client: client).makeTenant()
            let app = try await TestApp(client: client, databaseTimeout: .milliseconds(500))
            // The connection has prepared the document statements before it stops answering.
            try await app.withPublicClient { http in
                _ = try await http.send(.post, "/v1/collections", key: key, json: #"{"name":"frozen"}"#)
                try await #expect(http.send(.put, "/v1/collections/frozen/documents/d", key: key, json: #"{"v":1}"#).status == .created)
                try await #expect(http.send(.get, "/v1/collections/frozen/documents/d", key: key).status == .ok)
            }
            let backend = try await client.query("SELECT pg_backend_pid()", logger: TestDatabase.logger).collect()
            let pid = try #require(try backend.first?.decode(Int32.self))
            // The pool's only backend stops answering (as when its host freezes).
            guard kill(pid, SIGSTOP) == 0 else { throw TestSetupError(description: "cannot stop backend \(pid)") }
            defer { kill(pid, SIGCONT) }
            try await app.withPublicClient { http in
                let frozen = try await http.send(.get, "/v1/collections/frozen/documents/d", key: key)
                try frozen.expectProblem(.serviceUnavailable, "unavailable")
                kill(pid, SIGCONT)
                // The stopped backend's connection was closed; the pool serves from a new one.
                let after = try await http.send(.get, "/v1/collections", key: key)
                #expect(after.status == .ok, "\(after.text)")
            }
            let now = try await client.query("SELECT pg_backend_pid()", logger: TestDatabase.logger).collect()
            #expect(try now.first?.decode(Int32.self) != pid)
        }
    }

    /// Only a request's own task (``Database/timeoutMayCancelCaller``) is cancelled to end its
    /// wait; any other caller (a service's long-lived task) waits in a child task and goes on.
    @Test(.timeLimit(.minutes(1)), arguments: [false, true])
    func aCallerWaitingForAConnectionGivesUpAtTheTimeoutAndThePoolStaysUsable(inRequestTask: Bool) async throws {
        try await TestDatabase.withServiceClient(maxConnections: 1, databaseTimeout: .milliseconds(300)) { client in
            let database = Database(client: client, timeout: .milliseconds(300))
            try await client.whileAConnectionIsHeld {
                // A task of its own, which inherits the task-local: whatever is cancelled is it.
                let callerCancelled = await Database.$timeoutMayCancelCaller.withValue(inRequestTask) {
                    await Task {
                        await #expect(throws: DatabaseTimeout.self) { try await database.withConnection { _ in 1 } }
                        return Task.isCancelled
                    }.value
                }
                #expect(callerCancelled == inRequestTask)
            }
            // The abandoned lease request left the pool: the next caller gets the connection.
            #expect(try await database.withConnection { _ in 2 } == 2)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aRequestThatGetsNoConnectionIsAnswered503OnAConnectionThatStaysOpen() async throws {
        try await TestDatabase.withServiceClient(maxConnections: 1, databaseTimeout: .seconds(1)) { client in
            // The tenant and its collection through an app with the default timeout, as above.
            let setup = try await TestApp(client: client)
            let (_, key) = try await setup.makeTenant()
            try await setup.withPublicClient { http in
                try await #require(http.send(.post, "/v1/collections", key: key, json: #"{"name":"busy"}"#).status == .created)
            }
            let app = try await TestApp(client: client, databaseTimeout: .seconds(1))
            // A real server, as `serve` runs it: each request on a task of its own.
            let server = Application(
                metered: buildPublicRouter(services: app.services, rateLimiter: app.rateLimiter),
                by: app.services.meter,
                defaultPayer: .unauthenticated,
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                logger: TestDatabase.logger
            )
            try await server.test(.live) { http in
                // The pool's only connection is busy for longer than the timeout.
                let waited = try await client.whileAConnectionIsHeld {
                    try await http.send(.get, "/v1/collections/busy/documents", key: key)
                }
                try waited.expectProblem(.serviceUnavailable, "unavailable")
                // The same client connection serves the next request.
                try await #expect(http.send(.get, "/v1/collections/busy/documents", key: key).status == .ok)
            }
        }
    }

    @Test func aWriteWhoseRequestGaveUpIsNotCommitted() async throws {
        let app = try await TestApp()
        let (tenant, key) = try await app.makeTenant()
        let shared = try await TestDatabase.get()
        let logger = TestDatabase.logger
        // As the service role, a transaction whose deadline (1 ms after 1970) has passed: the
        // write runs, its COMMIT is refused, as when a frozen database resumes too late.
        try await shared.client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            try await connection.query("SELECT set_config('runway.tenant_id', \(tenant.id.uuidString), true)", logger: logger)
            try await connection.query("SELECT set_config('runway.deadline', '1', true)", logger: logger)
            try await connection.query("INSERT INTO collections (name) VALUES ('late')", logger: logger)
            await #expect {
                try await connection.query("COMMIT", logger: logger)
            } throws: { error in
                error.sqlState == "57014"
            }
        }
        try await app.withPublicClient { http in
            try await http.send(.get, "/v1/collections/late/documents", key: key).expectProblem(.notFound, "collection-not-found")
            // Requests set a deadline ahead of them: they commit.
            try await #expect(http.send(.post, "/v1/collections", key: key, json: #"{"name":"late"}"#).status == .created)
            try await #expect(http.send(.put, "/v1/collections/late/documents/d", key: key, json: #"{"v":1}"#).status == .created)
        }
    }
}

extension PostgresClient {
    /// Runs `body` while another caller holds one of this pool's connections.
    @discardableResult
    fileprivate func whileAConnectionIsHeld<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let (held, holding) = AsyncStream.makeStream(of: Void.self)
        let (released, release) = AsyncStream.makeStream(of: Void.self)
        async let holder: Void = withConnection { _ in
            holding.yield()
            for await _ in released { break }
        }
        for await _ in held { break }
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        release.yield()
        try await holder
        return try result.get()
    }
}
