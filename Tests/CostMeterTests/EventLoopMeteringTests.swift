import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TelemetryTesting
import Testing

@testable import CostMeter

/// Jobs resumed on a SwiftNIO event loop run there, metered with the loop's work that resumed them.
@Suite struct EventLoopMeteringTests {
    /// Two requests wait for an answer on one event loop; both answers arrive in one turn of the
    /// loop, the second far costlier to read. The first request runs first, yet each is credited
    /// the reading of its own answer.
    @Test func eachRequestIsCreditedTheLoopsWorkThatResumedIt() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = MeteringPool(threads: 1)
        defer { pool.shutdown() }
        let meter = CostMeter(configuration: CostMeterConfiguration(instance: "test"), pool: pool)
        let burner = Burner()
        let (cheap, costly) = (UUID(), UUID())
        let (cheapRead, costlyRead) = (UUID(), UUID())  // the truth keys of the loop's reads
        let waiting = Waiting()
        let (parked, parking) = AsyncStream.makeStream(of: Void.self)
        let requests = [cheap, costly].map { tenant in
            Task {
                try await meter.run(tenant: tenant) {
                    await withCheckedContinuation { continuation in
                        waiting.continuations.withLock { $0[tenant] = continuation }
                        parking.yield()
                    }
                }.usage.appCPUNanoseconds
            }
        }
        try await withTimeLimit(defaultTestWait, "both requests wait for their answers") {
            var iterator = parked.makeAsyncIterator()
            for _ in 0..<2 { _ = await iterator.next() }
        }
        try await group.any().submit {
            burner.burn(cheapRead, iterations: 10_000)
            waiting.continuations.withLock { $0[cheap] }?.resume()
            burner.burn(costlyRead, iterations: 5_000_000)
            waiting.continuations.withLock { $0[costly] }?.resume()
        }.get()
        let cheapCredit = try await requests[0].value
        let costlyCredit = try await requests[1].value
        #expect(costlyCredit >= burner.truth(costlyRead))
        #expect(cheapCredit < burner.truth(costlyRead) / 4, "the cheap request was billed the costly read")
        try await group.shutdownGracefully()
    }
}

/// Continuations of requests waiting for an answer, by tenant.
private final class Waiting: Sendable {
    let continuations = Mutex<[UUID: CheckedContinuation<Void, Never>]>([:])
}
