import CostMeter
import Logging
import Testing

@testable import App

@Suite struct DecimalTextTests {
    @Test func fixedPointTextHasExactlyTheDecimalsAsked() {
        #expect(DecimalText.fixed(12345, decimals: 3) == "12.345")
        #expect(DecimalText.fixed(7, decimals: 6) == "0.000007")
        #expect(DecimalText.fixed(0, decimals: 2) == "0.00")
        #expect(DecimalText.fixed(-5, decimals: 2) == "-0.05")
        #expect(DecimalText.fixed(1_000_000, decimals: 6) == "1.000000")
        #expect(DecimalText.fixed(.min, decimals: 1) == "-922337203685477580.8")
    }

    @Test func aRequestsCostIsLoggedWithSixDecimals() {
        var metadata: [String: Logger.MetadataValue] = [:]
        RequestCost(usage: Usage(appCPUNanoseconds: 1, databaseCPUNanoseconds: 2), costMicros: 0.0073).addMetadata(to: &metadata)
        #expect(metadata["cost_microusd"] == "0.007300")
    }
}
