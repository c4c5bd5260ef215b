import TelemetryTesting
import Testing

@testable import CostMeter

@Suite struct LargestRemainderTests {
    @Test func sharesAddUpToTheTotalAndStayWithinOneOfTheExactQuota() {
        var generator = SplitMix64(state: 7)
        for _ in 0..<2_000 {
            let total = Int64.random(in: 0...1_000_000, using: &generator)
            let count = Int.random(in: 1...12, using: &generator)
            let weights = (0..<count).map { _ in
                Bool.random(using: &generator) ? 0 : Int64.random(in: 0...120_000_000_000, using: &generator)
            }
            let shares = LargestRemainder.allocate(total, weights: weights)
            #expect(shares.reduce(0, +) == total, "weights \(weights)")
            let sum = weights.reduce(0, +)
            guard sum > 0 else { continue }
            for (share, weight) in zip(shares, weights) {
                let floor = Int64(Int128(total) * Int128(weight) / Int128(sum))
                #expect(share == floor || share == floor + 1)
                if weight == 0 { #expect(share == 0) }
            }
        }
    }

    @Test func theLeftoverGoesToTheLargestRemainders() {
        // 10 split 1:1:1 → 3.33 each; the one left goes to the first (ties to the earlier part).
        #expect(LargestRemainder.allocate(10, weights: [1, 1, 1]) == [4, 3, 3])
        // 7 split 0.5:0.3:0.2 → 3.5, 2.1, 1.4: floors 3, 2, 1 and the one left to the .5.
        #expect(LargestRemainder.allocate(7, weights: [5, 3, 2]) == [4, 2, 1])
    }

    @Test func allZeroWeightsGiveEverythingToTheLastPartNeverLoseIt() {
        #expect(LargestRemainder.allocate(1_208, weights: [0, 0, 0]) == [0, 0, 1_208])
        #expect(LargestRemainder.allocate(0, weights: [0]) == [0])
    }
}
