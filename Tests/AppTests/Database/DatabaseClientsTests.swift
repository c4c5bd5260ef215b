import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Testing

@testable import App

/// One pool per event loop, so that a request's database round trips stay on its own loop.
@Suite struct DatabaseClientsTests {
    @Test func connectionsAreSplitAmongTheLoopsAtLeastOneEach() {
        #expect(DatabaseClients.shares(of: 4, among: 2) == [2, 2])
        #expect(DatabaseClients.shares(of: 5, among: 2) == [3, 2])
        #expect(DatabaseClients.shares(of: 1, among: 3) == [1, 1, 1])
    }

    /// PostgresNIO's pool arms an idle-timeout timer for a connection above its minimum, and a
    /// keep-alive timer for any, each time one goes back to it; cancelled, they still wake a
    /// Dispatch thread at their deadlines, long after the request (`scripts/bench-threads`).
    @Test func everyConnectionIsKeptAndNoneIsPinged() {
        let endpoint = DatabaseEndpoint(socketPath: "/nonexistent/.s.PGSQL.5432", username: "runway", database: "runway")
        for connections in [1, 3] {
            let options = endpoint.clientConfiguration(maxConnections: connections).options
            #expect(options.maximumConnections == connections)
            #expect(options.minimumConnections == connections)
            #expect(options.keepAliveBehavior == nil)
        }
    }

    @Test func eachLoopGetsItsOwnPoolAndOtherThreadsTheFirst() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let endpoint = DatabaseEndpoint(socketPath: "/nonexistent/.s.PGSQL.5432", username: "runway", database: "runway")
        let clients = DatabaseClients(
            configuration: { endpoint.clientConfiguration(maxConnections: $0) },
            maxConnections: 4,
            group: group,
            backgroundLogger: Logger(label: "test")
        )
        let loops = Array(group.makeIterator())
        var onLoops: [ObjectIdentifier] = []
        for loop in loops { onLoops.append(try await loop.submit { ObjectIdentifier(clients.current.client) }.get()) }
        #expect(Set(onLoops).count == 2)
        #expect(onLoops[0] == ObjectIdentifier(clients.current.client))
        for (loop, expected) in zip(loops, onLoops) {
            #expect(try await loop.submit { ObjectIdentifier(clients.current.client) }.get() == expected)
            #expect(try await loop.submit { clients.current.loop === loop }.get())
        }
        try await group.shutdownGracefully()
    }
}
