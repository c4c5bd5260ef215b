/// What one instance of a type costs per hour, from a moment on.
package struct InstancePrice: Sendable, Equatable, Codable {
    /// Names this price for the ledger and reports (`aws-us-east-1-od-2026-07`).
    package var version: String
    /// `c7g.large`.
    package var instanceType: String
    /// vCPUs the price buys; idle is these vCPUs' time minus the CPU used.
    package var vcpus: Int
    /// Micro-dollars per instance-hour (`72_500` is $0.0725/h).
    package var microsPerHour: Int64
    /// Nanoseconds since 1970-01-01 UTC from which the price applies.
    package var effectiveFrom: Int64

    package init(version: String, instanceType: String, vcpus: Int, microsPerHour: Int64, effectiveFrom: Int64) {
        precondition(vcpus > 0 && microsPerHour >= 0, "an instance has vCPUs and a non-negative price")
        self.version = version
        self.instanceType = instanceType
        self.vcpus = vcpus
        self.microsPerHour = microsPerHour
        self.effectiveFrom = effectiveFrom
    }
}

/// Versioned instance prices with effective dates.
///
/// A price applies from its effective moment until the next one for the same instance type; a
/// change never reaches back: what was written to the ledger keeps the price it was written with.
///
/// The cost of an interval `[a, b)` of an hour `h` at hourly price `P` is `F(b) − F(a)` with
/// `F(t) = ⌊P · (t − h) / 1 h⌋`. Costs of intervals that tile an hour add up to `P` exactly, and
/// intervals that abut add up exactly whatever their lengths, so no micro-dollar is lost or made.
package struct PriceTable: Sendable, Equatable {
    package private(set) var prices: [InstancePrice]

    package init(_ prices: [InstancePrice]) {
        self.prices = prices.sorted { $0.effectiveFrom < $1.effectiveFrom }
    }

    static let nanosecondsPerHour: Int64 = 3_600_000_000_000

    /// AWS us-east-1 on-demand Linux, Graviton (Karpenter's table generated 2026-07-20), in force
    /// from the epoch: c7g.large $0.0725/h, c8g.large $0.07976/h, m7g.large $0.0816/h, 2 vCPUs each.
    package static let awsGravitonDefaults = PriceTable([
        InstancePrice(version: "aws-us-east-1-od-2026-07", instanceType: "c7g.large", vcpus: 2, microsPerHour: 72_500, effectiveFrom: 0),
        InstancePrice(version: "aws-us-east-1-od-2026-07", instanceType: "c8g.large", vcpus: 2, microsPerHour: 79_760, effectiveFrom: 0),
        InstancePrice(version: "aws-us-east-1-od-2026-07", instanceType: "m7g.large", vcpus: 2, microsPerHour: 81_600, effectiveFrom: 0),
    ])

    /// Adds a price (a new version, or a type of one's own).
    package mutating func add(_ price: InstancePrice) {
        prices.append(price)
        prices.sort { $0.effectiveFrom < $1.effectiveFrom }
    }

    /// The price of `instanceType` in force at `instant`, if any.
    package func price(of instanceType: String, at instant: Int64) -> InstancePrice? {
        prices.last { $0.instanceType == instanceType && $0.effectiveFrom <= instant }
    }

    /// The next moment after `instant` at which `instanceType`'s price changes.
    package func nextChange(of instanceType: String, after instant: Int64) -> Int64? {
        prices.first { $0.instanceType == instanceType && $0.effectiveFrom > instant }?.effectiveFrom
    }

    /// Micro-dollars the instance costs over `[start, end)`; the interval is split at hour
    /// boundaries and price changes. Nil if no price covers part of it.
    package func cost(of instanceType: String, from start: Int64, to end: Int64) -> Int64? {
        var total: Int64 = 0
        var a = start
        while a < end {
            guard let price = price(of: instanceType, at: a) else { return nil }
            let hour = Self.hourStart(of: a)
            var b = min(end, hour + Self.nanosecondsPerHour)
            if let change = nextChange(of: instanceType, after: a) { b = min(b, change) }
            total +=
                Self.cumulative(price.microsPerHour, hourStart: hour, at: b)
                - Self.cumulative(price.microsPerHour, hourStart: hour, at: a)
            a = b
        }
        return total
    }

    /// `⌊P · (t − h) / 1 h⌋` for `t` within the hour starting at `h`.
    static func cumulative(_ microsPerHour: Int64, hourStart: Int64, at instant: Int64) -> Int64 {
        Int64(Int128(microsPerHour) * Int128(instant - hourStart) / Int128(nanosecondsPerHour))
    }

    static func hourStart(of instant: Int64) -> Int64 {
        instant - ((instant % nanosecondsPerHour) + nanosecondsPerHour) % nanosecondsPerHour
    }
}
