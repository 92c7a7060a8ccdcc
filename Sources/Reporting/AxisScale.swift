import Foundation

/// A chart axis with round tick values: the ticks are 1, 2 or 5 × 10ⁿ apart and the axis runs
/// from a tick at or below the smallest value to one at or above the largest, so that a reader can
/// tell values apart at a glance (0.2, 0.4, 0.6 rather than 0.187, 0.374, …).
struct AxisScale: Equatable {
    let lower: Double
    let upper: Double
    let tickSpacing: Double

    /// An axis covering `minimum…maximum` with about `tickCount` intervals. `integerTicks` keeps
    /// the spacing at 1 or more (optimizer steps). A single value gets a small range around it.
    init(covering minimum: Double, _ maximum: Double, tickCount: Int = 5, integerTicks: Bool = false) {
        var low = minimum, high = maximum
        if !(low.isFinite && high.isFinite) || low > high { (low, high) = (0, 1) }
        if low == high {
            let margin = low == 0 ? 1 : abs(low) * 0.1
            (low, high) = (low - margin, high + margin)
            if minimum >= 0 && low < 0 { low = 0 }
        }
        var spacing = Self.roundSpacing(near: (high - low) / Double(max(tickCount, 1)))
        if integerTicks { spacing = max(spacing, 1) }
        tickSpacing = spacing
        // The tolerance keeps a value that is a tick (1e-3 / 2e-4 = 5.000000000000001) from
        // adding a tick beyond it.
        lower = (low / spacing + 1e-9).rounded(.down) * spacing
        upper = (high / spacing - 1e-9).rounded(.up) * spacing
    }

    /// The round number (1, 2 or 5 × 10ⁿ) nearest to `rough`.
    static func roundSpacing(near rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        let fraction = rough / magnitude
        let round: Double = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        return round * magnitude
    }

    /// The tick values from `lower` to `upper`, computed from whole multiples of the spacing so
    /// that they print cleanly (0.3, not 0.30000000000000004).
    var ticks: [Double] {
        let first = (lower / tickSpacing).rounded()
        let count = Int(((upper - lower) / tickSpacing).rounded())
        return (0...max(count, 0)).map { (first + Double($0)) * tickSpacing }
    }

    /// Where `value` falls along the axis, from 0 (lower) to 1 (upper).
    func fraction(of value: Double) -> Double {
        upper > lower ? (value - lower) / (upper - lower) : 0.5
    }

    /// A tick's label, with as many decimals as the spacing needs: `0.25`, `2e-4`, `1,500`, `12k`.
    func label(_ value: Double) -> String {
        if abs(value) < tickSpacing * 1e-6 { return "0" }
        let largest = max(abs(lower), abs(upper))
        // Small or huge values in powers of ten; values of ordinary size keep fixed decimals even
        // when their ticks are close together (0.52870, 0.52872 rather than 5.29e-1 twice).
        if largest < 1e-2 || largest >= 1e7 { return Self.scientific(value) }
        if largest >= 1e4 && tickSpacing >= 100 {
            let thousands = value / 1000
            return Self.fixed(thousands, decimals: Self.decimals(for: tickSpacing / 1000)) + "k"
        }
        return Self.fixed(value, decimals: Self.decimals(for: tickSpacing))
    }

    /// Decimals that show a multiple of `spacing` exactly.
    static func decimals(for spacing: Double) -> Int {
        max(0, -Int((log10(spacing) + 1e-9).rounded(.down)))
    }

    static func fixed(_ value: Double, decimals: Int) -> String {
        let text = String(format: "%.\(decimals)f", value)
        guard decimals == 0, abs(value) >= 1000 else { return text }
        // Thousands separators for whole numbers: 1,500.
        let digits = Array(text.hasPrefix("-") ? text.dropFirst() : Substring(text))
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (text.hasPrefix("-") ? "-" : "") + grouped
    }

    /// `2e-4`, `1.5e-3`: a mantissa with at most two decimals and the power of ten.
    static func scientific(_ value: Double) -> String {
        var exponent = Int(log10(abs(value)).rounded(.down))
        var mantissa = (value / pow(10, Double(exponent)) * 100).rounded() / 100
        if abs(mantissa) >= 10 {
            mantissa /= 10
            exponent += 1
        }
        var text = String(format: "%.2f", mantissa)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return "\(text)e\(exponent)"
    }
}
