/// SplitMix64, a small 64-bit generator (Steele, Lea & Flood 2014): the state advances by the golden-ratio
/// increment `0x9E3779B97F4A7C15` and each output is the state passed through a bit mixer.
///
/// It is the generator the reference benchmarks use to shuffle rows, so sequences are reproducible across
/// languages: from seed 0 the first output is `0xE220A8397B1DCDAF`.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable, Hashable, Codable {
    /// The generator's whole state; the next output is a function of it alone.
    public var state: UInt64

    /// A generator whose state starts at `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// Advances the state and returns the mixed value.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Shuffles `items` in place with the Fisher–Yates walk of the reference benchmarks: for `i` from `count − 1` down
/// to 1, swap element `i` with element `next() % (i + 1)`.
///
/// The modulo is deliberate (it matches the reference exactly); Swift's own `shuffle(using:)` draws differently.
public func splitMix64Shuffle<Element>(_ items: inout [Element], using generator: inout SplitMix64) {
    guard items.count > 1 else { return }
    for i in stride(from: items.count - 1, to: 0, by: -1) {
        let j = Int(generator.next() % UInt64(i + 1))
        items.swapAt(i, j)
    }
}

/// `items` shuffled by `splitMix64Shuffle(_:using:)` with a fresh `SplitMix64(seed: seed)`.
/// Shuffling `[0, 1, …, 9]` with seed 0 gives `[6, 3, 2, 9, 8, 1, 4, 7, 0, 5]`.
public func splitMix64Shuffle<Element>(_ items: [Element], seed: UInt64) -> [Element] {
    var shuffled = items
    var generator = SplitMix64(seed: seed)
    splitMix64Shuffle(&shuffled, using: &generator)
    return shuffled
}
