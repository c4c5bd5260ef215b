import CostMeter
import Foundation
import Synchronization
import TelemetryTesting

// Accuracy and overhead of the metering modes on a synthetic workload with known ground truth.
//
//   swift run -c release CostMeterBench [segment µs, default 10] [requests, default 20000]
//
// 8 tenants get 60/20/10/5/3/1/0.5/0.5 % of the requests; each request runs 6 CPU segments across
// `await Task.yield()`, a default-actor call and an `async let` child. Ground truth: the thread
// CPU clock read inside every segment. The baseline runs the same work on the default executor.

enum Bench {
    static let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
    static let segmentMicros = arguments.first ?? 10
    static let requestCount = arguments.dropFirst().first ?? 20_000
    static let shares: [Double] = [60, 20, 10, 5, 3, 1, 0.5, 0.5]
    static let tenants = shares.indices.map { _ in UUID() }

    /// Iterations of ``burn(_:)`` per microsecond on this machine.
    static let iterationsPerMicro: Int = {
        let start = CPUClock.thread()
        _ = burn(10_000_000)
        return max(1, 10_000_000 * 1_000 / Int(CPUClock.thread() - start))
    }()

    /// The tenant of each request, interleaved deterministically.
    static let schedule: [Int] = {
        var list: [Int] = []
        for (index, share) in shares.enumerated() {
            list += Array(repeating: index, count: Int((Double(requestCount) * share / 100).rounded()))
        }
        var generator = SplitMix64(state: 42)
        list.shuffle(using: &generator)
        return list
    }()

    @inline(never) static func burn(_ iterations: Int) -> UInt64 {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in 0..<iterations { x = (x ^ UInt64(truncatingIfNeeded: i)) &* 0x5851_F42D_4C95_7F2D }
        return x
    }
}

final class Truth: Sendable {
    let cpu = Mutex<[Int64]>(Array(repeating: 0, count: Bench.shares.count))

    func segment(_ tenant: Int) {
        let start = CPUClock.thread()
        _ = Bench.burn(Bench.segmentMicros * Bench.iterationsPerMicro)
        let used = CPUClock.thread() - start
        cpu.withLock { $0[tenant] += used }
    }
}

actor Helper {
    func work(_ truth: Truth, _ tenant: Int) { truth.segment(tenant) }
}

func request(_ tenant: Int, _ truth: Truth, _ helper: Helper) async {
    truth.segment(tenant)
    await Task.yield()
    truth.segment(tenant)
    await helper.work(truth, tenant)
    async let child: Void = truth.segment(tenant)
    truth.segment(tenant)
    await child
    await Task.yield()
    truth.segment(tenant)
}

struct Outcome {
    var processCPU: Int64
    var truth: [Int64]
    var credited: [Int64]
}

func runWorkload(meter: CostMeter?) async -> Outcome {
    let truth = Truth()
    let helper = Helper()
    let before = meter?.usageByTenant() ?? [:]
    let start = CPUClock.process()
    await withTaskGroup(of: Void.self) { group in
        var next = 0
        func add() {
            guard next < Bench.schedule.count else { return }
            let tenant = Bench.schedule[next]
            next += 1
            group.addTask {
                if let meter {
                    _ = try? await meter.run(tenant: Bench.tenants[tenant]) { await request(tenant, truth, helper) }
                } else {
                    await request(tenant, truth, helper)
                }
            }
        }
        for _ in 0..<64 { add() }
        while await group.next() != nil { add() }
    }
    meter?.pool.waitUntilIdle()  // every worker has settled what it ran last
    let processCPU = CPUClock.process() - start
    let after = meter?.usageByTenant() ?? [:]
    let credited = Bench.tenants.map { (after[$0]?.appCPUNanoseconds ?? 0) - (before[$0]?.appCPUNanoseconds ?? 0) }
    return Outcome(processCPU: processCPU, truth: truth.cpu.withLock { $0 }, credited: credited)
}

func report(_ name: String, _ outcome: Outcome, baseline: Int64?) {
    let truthTotal = Double(outcome.truth.reduce(0, +))
    let creditedTotal = Double(outcome.credited.reduce(0, +))
    var maxError = 0.0
    if creditedTotal > 0 {
        for index in Bench.shares.indices {
            let error = abs(Double(outcome.credited[index]) / creditedTotal - Double(outcome.truth[index]) / truthTotal) * 100
            maxError = max(maxError, error)
        }
    }
    let overhead = baseline.map { String(format: "%+.1f%%", (Double(outcome.processCPU) / Double($0) - 1) * 100) } ?? "-"
    let columns = [
        name.padding(toLength: 22, withPad: " ", startingAt: 0),
        "process CPU " + String(format: "%8.1f ms", Double(outcome.processCPU) / 1e6),
        "vs baseline " + overhead.padding(toLength: 7, withPad: " ", startingAt: 0),
        "max share error " + String(format: "%.2f pp", maxError),
        "credited/process " + String(format: "%.3f", creditedTotal / Double(outcome.processCPU)),
        "credited/truth " + String(format: "%.3f", creditedTotal / truthTotal),
    ]
    print(columns.joined(separator: "  "))
}

let cpus = ProcessInfo.processInfo.activeProcessorCount
print("segment ≈ \(Bench.segmentMicros) µs, \(Bench.schedule.count) requests × 6 segments, \(cpus) CPUs")
let configuration = CostMeterConfiguration(instance: "bench")
let pools = [MeteringMode.cpuClockPerSwitch, .monotonicRescaled, .cpuClockPerJob].map { MeteringPool(mode: $0) }
_ = await runWorkload(meter: nil)  // warm-up
for round in 1...3 {
    print("round \(round)")
    let baseline = await runWorkload(meter: nil)
    report("baseline (default)", baseline, baseline: nil)
    for pool in pools {
        let outcome = await runWorkload(meter: CostMeter(configuration: configuration, pool: pool))
        report("\(pool.mode)", outcome, baseline: baseline.processCPU)
    }
}
