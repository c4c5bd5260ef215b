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
        let loop = try await WaitingRequests { _, _ in }
        let (cheapRead, costlyRead) = (UUID(), UUID())  // the truth keys of the loop's reads
        let (cheapCredit, costlyCredit) = try await loop.answer { burner, resume in
            burner.burn(cheapRead, iterations: 10_000)
            resume(.cheap)
            burner.burn(costlyRead, iterations: 5_000_000)
            resume(.costly)
        }
        #expect(costlyCredit >= loop.burner.truth(costlyRead))
        #expect(cheapCredit < loop.burner.truth(costlyRead) / 4, "the cheap request was billed the costly read")
    }

    /// A request's job hands the loop another job of its own (here by yielding), which the loop
    /// queues behind another request's: the job run between the two is not billed for the first.
    /// (It was, when a job that handed off to its own executor ended without a clock read and
    /// nothing credited its time before the other job started.)
    @Test func aJobRunBetweenAnotherRequestsOwnJobsIsNotBilledForThem() async throws {
        let loop = try await WaitingRequests { request, burner in
            guard request == .costly else { return burner.burn(request.tenant, iterations: 10_000) }
            burner.burn(request.tenant, iterations: 5_000_000)
            await Task.yield()  // behind the cheap request's job, already queued on the loop
            burner.burn(request.tenant, iterations: 10_000)
        }
        // Both resumed in one turn: the costly request's job first, then the cheap one's.
        let (cheapCredit, costlyCredit) = try await loop.answer { _, resume in
            resume(.costly)
            resume(.cheap)
        }
        #expect(costlyCredit >= loop.burner.truth(WaitingRequests.Request.costly.tenant))
        #expect(
            cheapCredit < loop.burner.truth(WaitingRequests.Request.costly.tenant) / 4,
            "the cheap request was billed the costly one's job"
        )
    }
}

/// Two requests, a cheap and a costly one, metered on a pool of one thread, each waiting for an
/// answer that code on a one-thread event loop gives (so their jobs then run on that loop), then
/// running `work`.
private struct WaitingRequests {
    enum Request: CaseIterable {
        case cheap, costly
        var tenant: UUID { self == .cheap ? Self.tenants.cheap : Self.tenants.costly }
        private static let tenants = (cheap: UUID(), costly: UUID())
    }

    let burner = Burner()
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let pool = MeteringPool(threads: 1)
    private let continuations = Continuations()
    private let requests: [Task<Int64, any Error>]

    /// Starts both requests and returns once both wait.
    init(work: @escaping @Sendable (Request, Burner) async -> Void) async throws {
        let meter = CostMeter(configuration: CostMeterConfiguration(instance: "test"), pool: pool)
        let (parked, parking) = AsyncStream.makeStream(of: Void.self)
        let (burner, continuations) = (burner, continuations)
        requests = Request.allCases.map { request in
            Task {
                try await meter.run(tenant: request.tenant) {
                    await withCheckedContinuation { continuation in
                        continuations.waiting.withLock { $0[request] = continuation }
                        parking.yield()
                    }
                    await work(request, burner)
                }.usage.appCPUNanoseconds
            }
        }
        try await withTimeLimit(defaultTestWait, "both requests wait for their answers") {
            var iterator = parked.makeAsyncIterator()
            for _ in Request.allCases { _ = await iterator.next() }
        }
    }

    /// Runs `answering` in one turn of the event loop, with a function that resumes a request
    /// there; returns each request's CPU credit (cheap, costly) once both end.
    func answer(_ answering: @escaping @Sendable (Burner, (Request) -> Void) -> Void) async throws -> (Int64, Int64) {
        let (burner, continuations) = (burner, continuations)
        try await group.any().submit {
            answering(burner) { request in continuations.waiting.withLock { $0[request] }?.resume() }
        }.get()
        let credits = (try await requests[0].value, try await requests[1].value)
        pool.shutdown()
        try await group.shutdownGracefully()
        return credits
    }
}

/// Continuations of requests waiting for an answer.
private final class Continuations: Sendable {
    let waiting = Mutex<[WaitingRequests.Request: CheckedContinuation<Void, Never>]>([:])
}
