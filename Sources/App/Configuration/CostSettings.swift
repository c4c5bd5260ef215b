import CostMeter
import Foundation

/// The cost meter's settings (issue 5), part of ``RunwayConfiguration`` (which reads them from
/// the environment).
struct CostSettings: Sendable, Equatable {
    /// The instance type priced. `RUNWAY_INSTANCE_TYPE`, default `c7g.large`.
    var instanceType = "c7g.large"
    /// vCPUs of this deployment. `RUNWAY_VCPUS`, default: the price table's for the type (2).
    var vcpus: Int?
    /// Hourly price in micro-dollars, overriding the table. `RUNWAY_PRICE_MICROS_PER_HOUR`.
    var microsPerHour: Int64?
    /// How often ledger buckets are closed and written. `RUNWAY_COST_FLUSH_SECONDS`, default 10.
    var flushSeconds = 10
    /// Whether requests run on their tenant's metering executor. `RUNWAY_COST_METER`, default 1;
    /// 0 only to measure what metering costs (tenants are then credited nothing).
    var metersRequests = true

    /// The meter's configuration for `instance`; fails if the type has no price.
    func meterConfiguration(instance: String) throws -> CostMeterConfiguration {
        var configuration = CostMeterConfiguration(instance: instance, instanceType: instanceType, flushInterval: .seconds(flushSeconds))
        configuration.override(vcpus: vcpus, microsPerHour: microsPerHour)
        configuration.metersRequests = metersRequests
        guard configuration.price(at: CPUClock.wall()) != nil else {
            throw ConfigurationError(
                description: "no price for RUNWAY_INSTANCE_TYPE=\(instanceType): set RUNWAY_PRICE_MICROS_PER_HOUR and RUNWAY_VCPUS"
            )
        }
        return configuration
    }
}
