import TelemetryTesting
import Testing

@testable import CostMeter

@Suite struct PriceTableTests {
    static let hour: Int64 = 3_600_000_000_000
    /// 2026-11-26 15:00:00 UTC.
    static let base: Int64 = 1_795_791_600 * 1_000_000_000

    @Test func aFullHourCostsTheHourlyPriceWhateverTheCuts() {
        let table = PriceTable.awsGravitonDefaults
        var generator = SplitMix64(state: 3)
        for _ in 0..<200 {
            var cuts = (0..<Int.random(in: 0...400, using: &generator)).map { _ in
                Self.base + Int64.random(in: 1..<Self.hour, using: &generator)
            }
            cuts = ([Self.base] + cuts.sorted() + [Self.base + Self.hour])
            let sum = zip(cuts, cuts.dropFirst()).reduce(Int64(0)) { $0 + table.cost(of: "c7g.large", from: $1.0, to: $1.1)! }
            #expect(sum == 72_500)
        }
        #expect(table.cost(of: "c8g.large", from: Self.base, to: Self.base + Self.hour) == 79_760)
        let day = table.cost(of: "m7g.large", from: Self.base, to: Self.base + 24 * Self.hour)
        #expect(day == Int64(81_600 * 24))
        #expect(table.cost(of: "x9.huge", from: Self.base, to: Self.base + Self.hour) == nil)
    }

    @Test func aPriceChangeAppliesFromItsEffectiveMomentOnly() {
        var table = PriceTable.awsGravitonDefaults
        let minute: Int64 = 60_000_000_000
        let before = table.cost(of: "c7g.large", from: Self.base, to: Self.base + 30 * minute)!
        #expect(before == 36_250)
        // v2 from half past: the first half hour keeps its price, the second is at the new one.
        table.add(
            InstancePrice(version: "v2", instanceType: "c7g.large", vcpus: 2, microsPerHour: 60_000, effectiveFrom: Self.base + 30 * minute)
        )
        #expect(table.cost(of: "c7g.large", from: Self.base, to: Self.base + 30 * minute) == before)
        #expect(table.cost(of: "c7g.large", from: Self.base + 30 * minute, to: Self.base + Self.hour) == 30_000)
        #expect(table.cost(of: "c7g.large", from: Self.base, to: Self.base + Self.hour) == 66_250)
        #expect(table.price(of: "c7g.large", at: Self.base + 30 * minute - 1)?.version == "aws-us-east-1-od-2026-07")
        #expect(table.price(of: "c7g.large", at: Self.base + 30 * minute)?.version == "v2")
        #expect(table.nextChange(of: "c7g.large", after: Self.base) == Self.base + 30 * minute)
    }

    @Test func configuredVCPUsAndPriceAreAVersionOfTheirOwn() {
        var configuration = CostMeterConfiguration(instance: "i", instanceType: "c7g.large")
        configuration.override(vcpus: 4, microsPerHour: nil, from: Self.base)
        #expect(configuration.price(at: Self.base - 1)?.vcpus == 2)
        #expect(configuration.price(at: Self.base)?.vcpus == 4)
        #expect(configuration.price(at: Self.base)?.microsPerHour == 72_500)
        #expect(configuration.price(at: Self.base)?.version == "configured")
    }
}
