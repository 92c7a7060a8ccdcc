import Foundation

/// A seeded, splittable generator (xoshiro256**, seeded through SplitMix64). Every random
/// number in training (initialisation, dropout, sampling) comes from one of these, passed in,
/// so a run is a pure function of its seed; the state can be saved and restored.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var mix = seed
        func splitMix() -> UInt64 {
            mix &+= 0x9E37_79B9_7F4A_7C15
            var z = mix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix()
        s1 = splitMix()
        s2 = splitMix()
        s3 = splitMix()
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotate(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotate(s3, 45)
        return result
    }

    /// Fills `mask` with 1 (keep) or 0 (drop), each dropped with `probability`, four draws of 16 bits per
    /// 64-bit number.
    public mutating func fillKeepMask(_ mask: UnsafeMutableBufferPointer<UInt8>, dropProbability: Float) {
        let threshold = UInt64((dropProbability * 65_536).rounded())
        var index = 0
        while index < mask.count {
            var bits = next()
            for _ in 0..<4 where index < mask.count {
                mask[index] = (bits & 0xFFFF) < threshold ? 0 : 1
                bits >>= 16
                index += 1
            }
        }
    }

    @inline(__always) private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Standard normal (Box–Muller).
    public mutating func nextNormal() -> Float {
        var u1 = nextUniform()
        while u1 <= 0 { u1 = nextUniform() }
        let u2 = nextUniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Float.pi * u2)
    }

    /// A new independent generator derived from this one (advances this one).
    public mutating func split() -> SeededGenerator {
        SeededGenerator(seed: next())
    }
}
