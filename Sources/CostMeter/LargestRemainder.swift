/// Splits whole units (micro-dollars) in proportion to weights so that the parts add up to the
/// total exactly: each part gets the floor of its share, and the units left over go one each to
/// the parts with the largest remainders (ties to the earlier part).
package enum LargestRemainder {
    /// - Parameters:
    ///   - total: the units to split, not negative.
    ///   - weights: one non-negative weight per part.
    /// - Returns: one share per weight, adding up to `total`. When every weight is zero, nothing
    ///   can be split in proportion and the whole total goes to the last part (callers put idle
    ///   last, so cost never vanishes).
    package static func allocate(_ total: Int64, weights: [Int64]) -> [Int64] {
        precondition(total >= 0, "a negative total")
        precondition(weights.allSatisfy { $0 >= 0 }, "a negative weight")
        guard !weights.isEmpty else { return [] }
        let sum = weights.reduce(Int128(0)) { $0 + Int128($1) }
        guard sum > 0 else {
            var shares = [Int64](repeating: 0, count: weights.count)
            shares[shares.count - 1] = total
            return shares
        }
        var shares = [Int64]()
        shares.reserveCapacity(weights.count)
        var remainders: [(index: Int, remainder: Int128)] = []
        remainders.reserveCapacity(weights.count)
        var given: Int64 = 0
        for (index, weight) in weights.enumerated() {
            let (quotient, remainder) = (Int128(total) * Int128(weight)).quotientAndRemainder(dividingBy: sum)
            shares.append(Int64(quotient))
            given += Int64(quotient)
            remainders.append((index, remainder))
        }
        let left = Int(total - given)  // < weights.count
        if left > 0 {
            remainders.sort { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.index < $1.index }
            for entry in remainders.prefix(left) { shares[entry.index] += 1 }
        }
        return shares
    }
}
