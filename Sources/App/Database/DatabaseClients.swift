import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle

/// The service's PostgreSQL connection pools: one per SwiftNIO event loop, each with its
/// connections on that loop, so a request's database round trips stay on the thread that serves
/// its HTTP connection. A request on another loop's pool would move between the two loops twice
/// per round trip (a wake-up of the other thread each way).
///
/// A ``Service``: runs every pool until shutdown.
struct DatabaseClients: Service {
    private let pools: [(loop: any EventLoop, client: PostgresClient)]

    /// One pool for every loop of `group`, `maxConnections` split among them (at least one each).
    init(
        configuration: (_ maxConnections: Int) -> PostgresClient.Configuration,
        maxConnections: Int,
        group: MultiThreadedEventLoopGroup = .singleton,
        backgroundLogger: Logger
    ) {
        let loops = Array(group.makeIterator())
        pools = zip(loops, Self.shares(of: maxConnections, among: loops.count)).map { loop, share in
            (loop, PostgresClient(configuration: configuration(share), eventLoopGroup: loop, backgroundLogger: backgroundLogger))
        }
    }

    /// `total` connections split as evenly as they go among `pools`, at least one each.
    static func shares(of total: Int, among pools: Int) -> [Int] {
        (0..<pools).map { index in max(1, total / pools + (index < total % pools ? 1 : 0)) }
    }

    /// One pool for every caller (tests, short-lived commands).
    init(_ client: PostgresClient) {
        pools = [(MultiThreadedEventLoopGroup.singleton.any(), client)]
    }

    /// The calling thread's event loop and its pool; off the loops, the first pool and its loop
    /// (where a timer for the caller runs). One thread-local look-up per database call.
    var current: (client: PostgresClient, loop: any EventLoop) {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return (pools[0].client, pools[0].loop) }
        if pools.count > 1 {
            for pool in pools where pool.loop === loop { return (pool.client, loop) }
        }
        return (pools[0].client, loop)
    }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for pool in pools { group.addTask { await pool.client.run() } }
        }
    }
}
