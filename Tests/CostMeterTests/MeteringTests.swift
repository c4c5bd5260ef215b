import Foundation
import Synchronization
import Testing

@testable import CostMeter

/// Burns CPU and records, with the thread CPU clock read inside, how much it burned: the ground
/// truth the meter's credits are compared with.
final class Burner: Sendable {
    let truth = Mutex<[UUID: Int64]>([:])

    @inline(never) func burn(_ tenant: UUID, iterations: Int) {
        let start = CPUClock.thread()
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in 0..<iterations { x = (x ^ UInt64(truncatingIfNeeded: i)) &* 0x5851_F42D_4C95_7F2D }
        precondition(x != 1)
        let used = CPUClock.thread() - start
        truth.withLock { $0[tenant, default: 0] += used }
    }

    func truth(_ tenant: UUID) -> Int64 { truth.withLock { $0[tenant] ?? 0 } }
}

@Suite(.serialized) struct MeteringTests {
    static let pool = MeteringPool(threads: 2)
    var pool: MeteringPool { Self.pool }
    var meter: CostMeter { CostMeter(configuration: CostMeterConfiguration(instance: "test"), pool: pool) }

    /// A request of `segments` CPU segments across `await`s, an `async let` child and a task group.
    static func request(_ tenant: UUID, burner: Burner, iterations: Int) async {
        burner.burn(tenant, iterations: iterations)
        await Task.yield()
        async let child: Void = burner.burn(tenant, iterations: iterations)
        burner.burn(tenant, iterations: iterations)
        await child
        await withTaskGroup(of: Void.self) { group in
            group.addTask { burner.burn(tenant, iterations: iterations) }
            group.addTask { burner.burn(tenant, iterations: iterations) }
        }
        await Task.yield()
        burner.burn(tenant, iterations: iterations)
    }

    @Test func twoTenantsUnderConcurrentLoadAreCreditedTheirOwnCPU() async throws {
        let meter = meter
        let burner = Burner()
        let (big, small) = (UUID(), UUID())
        // Segments of very different sizes: the big tenant burns 5× the small one per request.
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<60 {
                let tenant = index.isMultiple(of: 2) ? big : small
                let iterations = tenant == big ? 1_000_000 : 200_000
                group.addTask {
                    _ = try? await meter.run(tenant: tenant) { await Self.request(tenant, burner: burner, iterations: iterations) }
                }
            }
        }
        pool.waitUntilIdle()
        let usage = meter.usageByTenant()
        let creditedBig = try #require(usage[big]).appCPUNanoseconds
        let creditedSmall = try #require(usage[small]).appCPUNanoseconds
        #expect(usage[big]?.requests == 30 && usage[small]?.requests == 30)
        // Each tenant gets what it burned plus its share of the pool's bookkeeping between its
        // jobs; stated tolerance: within −2 % / +10 % of the truth, ratio within 5 %.
        for (credited, tenant) in [(creditedBig, big), (creditedSmall, small)] {
            let ratio = Double(credited) / Double(burner.truth(tenant))
            #expect(ratio > 0.98 && ratio < 1.10, "credited/truth \(ratio)")
        }
        let ratio = Double(creditedBig) / Double(creditedSmall)
        let truthRatio = Double(burner.truth(big)) / Double(burner.truth(small))
        #expect(abs(ratio / truthRatio - 1) < 0.05, "credited ratio \(ratio), true ratio \(truthRatio)")
    }

    @Test func childTasksAreTheParentsAndAPlainTaskIsNobodysButTheHelperKeepsIt() async throws {
        let meter = meter
        let burner = Burner()
        let tenant = UUID()
        let unstructured = UUID()  // the truth key of the plain task's burn
        let helped = UUID()
        _ = try await meter.run(tenant: tenant) {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { burner.burn(tenant, iterations: 300_000) }
            }
            await Task { burner.burn(unstructured, iterations: 2_000_000) }.value
        }
        pool.waitUntilIdle()
        let afterPlain = try #require(meter.usageByTenant()[tenant]).appCPUNanoseconds
        // The child's CPU is the tenant's; the plain task's (far larger) CPU is not.
        #expect(afterPlain >= burner.truth(tenant))
        #expect(afterPlain < burner.truth(tenant) + burner.truth(unstructured) / 4)

        _ = try await meter.run(tenant: tenant) {
            try await CostMeter.task { burner.burn(helped, iterations: 2_000_000) }.value
        }
        pool.waitUntilIdle()
        let afterHelped = try #require(meter.usageByTenant()[tenant]).appCPUNanoseconds
        #expect(afterHelped - afterPlain >= burner.truth(helped))
    }

    @Test func aRequestsOwnFigureIsCompleteWhenItEnds() async throws {
        let meter = meter
        let burner = Burner()
        let tenant = UUID()
        let (_, usage) = try await meter.run(tenant: tenant) {
            burner.burn(tenant, iterations: 500_000)
            await Task.yield()
            burner.burn(tenant, iterations: 500_000)
        }
        #expect(usage.appCPUNanoseconds >= burner.truth(tenant))
        #expect(Double(usage.appCPUNanoseconds) < Double(burner.truth(tenant)) * 1.1)
        meter.creditDatabase(tenant: tenant, nanoseconds: 1_234)
        #expect(meter.usageByTenant()[tenant]?.databaseCPUNanoseconds == 1_234)
    }

    @Test func switchedOffItCountsRequestsButCreditsNoCPU() async throws {
        var configuration = CostMeterConfiguration(instance: "test")
        configuration.metersRequests = false
        let meter = CostMeter(configuration: configuration, pool: pool)
        let burner = Burner()
        let tenant = UUID()
        let (_, usage) = try await meter.run(tenant: tenant) { burner.burn(tenant, iterations: 200_000) }
        #expect(usage.appCPUNanoseconds == 0)
        #expect(meter.usageByTenant()[tenant] == Usage(requests: 1))
    }

    @Test func underThePlatformExecutorWorkIsNobodysAndEnteringATenantStaysOnTheThread() async throws {
        let meter = meter
        let burner = Burner()
        let tenant = UUID()
        let platformBurn = UUID()  // the truth key of the platform's own burn
        let threads = try await withTaskExecutorPreference(pool.platformExecutor) {
            burner.burn(platformBurn, iterations: 2_000_000)
            let before = pthread_self()
            let (inside, _) = try await meter.run(tenant: tenant) {
                let inside = pthread_self()
                burner.burn(tenant, iterations: 300_000)
                return inside
            }
            return (before, inside, pthread_self())
        }
        pool.waitUntilIdle()
        // A worker's hand-off to itself wakes nobody: the same thread runs the request and takes the
        // platform's work back (the other worker is idle, so this is not luck).
        #expect(pthread_equal(threads.0, threads.1) != 0 && pthread_equal(threads.1, threads.2) != 0)
        let credited = try #require(meter.usageByTenant()[tenant]).appCPUNanoseconds
        #expect(credited >= burner.truth(tenant))
        #expect(credited < burner.truth(tenant) + burner.truth(platformBurn) / 4)
    }

    @Test(arguments: [MeteringMode.monotonicRescaled, .cpuClockPerJob])
    func theOtherModesAlsoCreditTheTenant(mode: MeteringMode) async throws {
        let pool = MeteringPool(threads: 2, mode: mode, rescaleInterval: .milliseconds(5))
        defer { pool.shutdown() }
        let meter = CostMeter(configuration: CostMeterConfiguration(instance: "test"), pool: pool)
        let burner = Burner()
        let tenant = UUID()
        _ = try await meter.run(tenant: tenant) { await Self.request(tenant, burner: burner, iterations: 200_000) }
        pool.waitUntilIdle()
        let credited = Double(try #require(meter.usageByTenant()[tenant]).appCPUNanoseconds)
        #expect(credited > Double(burner.truth(tenant)) * 0.9 && credited < Double(burner.truth(tenant)) * 1.2)
    }
}
