/// Fixed-point numbers as text, without Foundation's `String(format:)` (a `printf` parse per
/// call) on the request path.
enum DecimalText {
    /// `scaled` / 10^`decimals` with exactly `decimals` digits after the point:
    /// `fixed(12345, decimals: 3)` is `"12.345"`, `fixed(-5, decimals: 2)` is `"-0.05"`.
    static func fixed(_ scaled: Int64, decimals: Int) -> String {
        precondition(decimals > 0 && decimals < 19, "1 to 18 decimals")
        var unit: Int64 = 1
        for _ in 0..<decimals { unit *= 10 }
        let magnitude = scaled.magnitude
        let fraction = String(magnitude % UInt64(unit))
        let sign = scaled < 0 ? "-" : ""
        return sign + String(magnitude / UInt64(unit)) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
}
