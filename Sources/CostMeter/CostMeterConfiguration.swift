import Foundation

/// Where the meter runs and how it prices.
package struct CostMeterConfiguration: Sendable, Equatable {
    /// This instance's name in the ledger (host name by default in `serve`).
    package var instance: String
    /// One id per process start: the ledger's rows of two runs never collide.
    package var boot: UUID
    /// The instance type priced (`c7g.large`).
    package var instanceType: String
    /// The price table; must hold a price for ``instanceType``.
    package var prices: PriceTable
    /// How often buckets are closed and written. Default 10 s: a crash loses at most this much.
    package var flushInterval: Duration
    /// False runs requests on the default executor and credits nothing to tenants (all CPU is
    /// then overhead): for measuring what metering itself costs.
    package var metersRequests = true

    package init(
        instance: String,
        boot: UUID = UUID(),
        instanceType: String = "c7g.large",
        prices: PriceTable = .awsGravitonDefaults,
        flushInterval: Duration = .seconds(10)
    ) {
        self.instance = instance
        self.boot = boot
        self.instanceType = instanceType
        self.prices = prices
        self.flushInterval = flushInterval
    }

    /// The price in force at `instant` for this instance type.
    package func price(at instant: Int64) -> InstancePrice? {
        prices.price(of: instanceType, at: instant)
    }

    /// Overrides the vCPU count and/or hourly price of ``instanceType`` from now on, as a price
    /// version of its own (`configured`), so the default versions stay as they were.
    package mutating func override(vcpus: Int?, microsPerHour: Int64?, from instant: Int64 = 0) {
        guard vcpus != nil || microsPerHour != nil else { return }
        let base = price(at: instant)
        guard let resolvedPrice = microsPerHour ?? base?.microsPerHour else { return }
        prices.add(
            InstancePrice(
                version: "configured",
                instanceType: instanceType,
                vcpus: vcpus ?? base?.vcpus ?? 2,
                microsPerHour: resolvedPrice,
                effectiveFrom: instant
            )
        )
    }
}
