import TelemetryTesting
import Testing

@testable import Telemetry

@Suite struct SamplingTests {
    @Test func ratioPointOneKeepsTenPercentOfAMillionRootsWithinPointTwoPercent() {
        let sampler = TraceIDRatioSampler(ratio: 0.1)
        var generator = SplitMix64(state: 42)
        var kept = 0
        for _ in 0..<1_000_000 where sampler.shouldSample(TraceID.random(using: &generator)) { kept += 1 }
        #expect((98_000...102_000).contains(kept), "kept \(kept)")
    }

    @Test func decisionsAreStablePerTraceIDAndAHigherRatioKeepsASuperset() {
        var generator = SplitMix64(state: 7)
        let ids = (0..<10_000).map { _ in TraceID.random(using: &generator) }
        let low = TraceIDRatioSampler(ratio: 0.1)
        let high = TraceIDRatioSampler(ratio: 0.5)
        let first = ids.map(low.shouldSample)
        #expect(ids.map(TraceIDRatioSampler(ratio: 0.1).shouldSample) == first)
        for (id, kept) in zip(ids, first) where kept { #expect(high.shouldSample(id)) }
    }

    @Test func theDecisionDependsOnlyOnTheTopBitsOfTheLowHalf() {
        let sampler = TraceIDRatioSampler(ratio: 0.5)
        // (low >> 1) < 2^62 keeps it.
        #expect(sampler.shouldSample(TraceID(high: .max, low: 0x7FFF_FFFF_FFFF_FFFF)))
        #expect(!sampler.shouldSample(TraceID(high: 0, low: 0x8000_0000_0000_0000)))
    }

    @Test func ratiosZeroAndOneAreNoneAndAll() {
        var generator = SplitMix64(state: 1)
        let ids = (0..<1000).map { _ in TraceID.random(using: &generator) } + [TraceID(high: 1, low: .max)]
        #expect(ids.allSatisfy(TraceIDRatioSampler(ratio: 1).shouldSample))
        #expect(!ids.contains(where: TraceIDRatioSampler(ratio: 0).shouldSample))
        #expect(TraceIDRatioSampler(ratio: 7).ratio == 1)
        #expect(TraceIDRatioSampler(ratio: .nan).ratio == 0)
    }

    @Test func aParentsDecisionIsFollowedWhateverTheRatio() {
        let id = TraceID(high: 1, low: 2)
        let sampledParent = SpanContext(traceID: id, spanID: SpanID(3), flags: .sampled, isRemote: true)
        let unsampledParent = SpanContext(traceID: id, spanID: SpanID(3), flags: [], isRemote: false)
        #expect(HeadSampler(ratio: 0).shouldSample(traceID: id, parent: sampledParent))
        #expect(!HeadSampler(ratio: 1).shouldSample(traceID: id, parent: unsampledParent))
        #expect(HeadSampler(ratio: 1).shouldSample(traceID: id, parent: nil))
    }

    @Test func theTailKeepsSlowAndErrorRootsOnly() {
        let tail = TailSampler(slowThreshold: .milliseconds(100), keepErrors: true)
        #expect(tail.keep(rootDurationNanoseconds: 100_000_000, hasError: false) == .slow)
        #expect(tail.keep(rootDurationNanoseconds: 99_999_999, hasError: false) == nil)
        #expect(tail.keep(rootDurationNanoseconds: 1, hasError: true) == .error)
        #expect(TailSampler(slowThreshold: nil, keepErrors: false).keep(rootDurationNanoseconds: .max, hasError: true) == nil)
    }
}
