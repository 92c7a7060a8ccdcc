import Foundation

/// Builds K-quant super-blocks from logical values (scales, minimums, quants), following the layouts in ggml's
/// format definition, and computes the values they encode. Written independently of the decoder under test.
struct KQuantTestBlocks {
    var scale: UInt16          // f16 bits of d
    var minimumScale: UInt16   // f16 bits of dmin
    var scales: [UInt8]        // 8 × 6-bit
    var minimums: [UInt8]      // 8 × 6-bit
    var quants: [UInt8]        // 256 × 4- or 5-bit

    /// Packs eight 6-bit scales and minimums into 12 bytes.
    static func packScalesAndMinimums(_ scales: [UInt8], _ minimums: [UInt8]) -> [UInt8] {
        var packed = [UInt8](repeating: 0, count: 12)
        for index in 0 ..< 4 {
            packed[index] = scales[index] | (scales[index + 4] >> 4) << 6
            packed[index + 4] = minimums[index] | (minimums[index + 4] >> 4) << 6
            packed[index + 8] = (scales[index + 4] & 15) | (minimums[index + 4] & 15) << 4
        }
        return packed
    }

    /// A random block with quants of `bits` bits and d, dmin of random small halves.
    static func random(bits: Int, using generator: inout GGUFSeededGenerator) -> KQuantTestBlocks {
        // Halves 0x2000…0x3BFF are about 0.008…0.99; positive normals keep the arithmetic readable.
        KQuantTestBlocks(
            scale: UInt16.random(in: 0x2000 ... 0x3BFF, using: &generator),
            minimumScale: UInt16.random(in: 0x2000 ... 0x3BFF, using: &generator),
            scales: (0 ..< 8).map { _ in UInt8.random(in: 0 ... 63, using: &generator) },
            minimums: (0 ..< 8).map { _ in UInt8.random(in: 0 ... 63, using: &generator) },
            quants: (0 ..< 256).map { _ in UInt8.random(in: 0 ..< UInt8(1 << bits), using: &generator) })
    }

    /// Value `e` lies in sub-block `e / 32`; group `e / 64` reads bytes `32·group ..< 32·group + 32` of qs, low
    /// nibbles for its first 32 values, high nibbles for the next 32.
    func bytesQ4_K() -> [UInt8] {
        var nibbles = [UInt8](repeating: 0, count: 128)
        for value in 0 ..< 256 {
            let group = value / 64, position = value % 32
            let isHigh = value % 64 >= 32
            nibbles[32 * group + position] |= (quants[value] & 15) << (isHigh ? 4 : 0)
        }
        return GGUFTestBytes.le(scale) + GGUFTestBytes.le(minimumScale) + Self.packScalesAndMinimums(scales, minimums) + nibbles
    }

    /// As Q4_K, plus the fifth bit of value `e` in `qh[e % 32]`, bit `e / 32` (2·group for the low half, 2·group + 1
    /// for the high half).
    func bytesQ5_K() -> [UInt8] {
        var nibbles = [UInt8](repeating: 0, count: 128)
        var highBits = [UInt8](repeating: 0, count: 32)
        for value in 0 ..< 256 {
            let group = value / 64, position = value % 32
            let isHigh = value % 64 >= 32
            nibbles[32 * group + position] |= (quants[value] & 15) << (isHigh ? 4 : 0)
            highBits[position] |= (quants[value] >> 4) << (value / 32)
        }
        return GGUFTestBytes.le(scale) + GGUFTestBytes.le(minimumScale) + Self.packScalesAndMinimums(scales, minimums)
            + highBits + nibbles
    }

    /// (d · sc) · q − (dmin · m) for each value.
    func expected() -> [Float] {
        let d = Float(Float16Bits.value(scale)), dmin = Float(Float16Bits.value(minimumScale))
        return (0 ..< 256).map { value in
            let subBlock = value / 32
            return (d * Float(scales[subBlock])) * Float(quants[value]) - dmin * Float(minimums[subBlock])
        }
    }

    /// A Q6_K block from 16 int8 scales and 256 six-bit quants.
    struct Q6Block {
        var scale: UInt16
        var scales: [Int8]
        var quants: [UInt8]  // 0…63, stored value q − 32

        static func random(using generator: inout GGUFSeededGenerator) -> Q6Block {
            Q6Block(scale: UInt16.random(in: 0x2000 ... 0x3BFF, using: &generator),
                    scales: (0 ..< 16).map { _ in Int8.random(in: -128 ... 127, using: &generator) },
                    quants: (0 ..< 256).map { _ in UInt8.random(in: 0 ... 63, using: &generator) })
        }

        /// Value `e`: half `e / 128`, quarter `(e % 128) / 32`, position `l = e % 32`. Its low nibble is in
        /// `ql[64·half + l + 32·(quarter % 2)]` (low nibble for quarters 0–1, high for 2–3); its top two bits are
        /// bits `2·quarter` of `qh[32·half + l]`.
        func bytes() -> [UInt8] {
            var low = [UInt8](repeating: 0, count: 128)
            var high = [UInt8](repeating: 0, count: 64)
            for value in 0 ..< 256 {
                let half = value / 128, quarter = (value % 128) / 32, position = value % 32
                low[64 * half + position + 32 * (quarter % 2)] |= (quants[value] & 15) << (quarter < 2 ? 0 : 4)
                high[32 * half + position] |= (quants[value] >> 4) << (2 * quarter)
            }
            return low + high + scales.map { UInt8(bitPattern: $0) } + GGUFTestBytes.le(scale)
        }

        /// (d · scale[e / 16]) · (q − 32) for each value.
        func expected() -> [Float] {
            let d = Float(Float16Bits.value(scale))
            return (0 ..< 256).map { value in (d * Float(scales[value / 16])) * Float(Int(quants[value]) - 32) }
        }
    }

    /// A plain Q4_K quantiser for round-trip checks: per sub-block scale = range / 15 and minimum = −min, both
    /// quantised to 6 bits against per-super-block maxima.
    static func quantizeQ4_K(_ values: [Float]) -> [UInt8] {
        var output: [UInt8] = []
        for start in stride(from: 0, to: values.count, by: 256) {
            let block = Array(values[start ..< start + 256])
            let ranges = (0 ..< 8).map { sub -> (step: Float, offset: Float) in
                let part = block[32 * sub ..< 32 * sub + 32]
                return ((part.max()! - part.min()!) / 15, max(0, -part.min()!))
            }
            let d = Float16Bits.round(ranges.map(\.step).max()! / 63)
            let dmin = Float16Bits.round(ranges.map(\.offset).max()! / 63)
            let dValue = Float(Float16Bits.value(d)), dminValue = Float(Float16Bits.value(dmin))
            var logical = KQuantTestBlocks(scale: d, minimumScale: dmin, scales: [], minimums: [], quants: [])
            for sub in 0 ..< 8 {
                let scale = UInt8(min(63, max(1, (ranges[sub].step / dValue).rounded(.up))))
                let minimum = UInt8(min(63, max(0, (ranges[sub].offset / dminValue).rounded(.up))))
                logical.scales.append(scale)
                logical.minimums.append(minimum)
                let step = dValue * Float(scale), offset = dminValue * Float(minimum)
                for value in block[32 * sub ..< 32 * sub + 32] {
                    logical.quants.append(UInt8(min(15, max(0, ((value + offset) / step).rounded()))))
                }
            }
            output += logical.bytesQ4_K()
        }
        return output
    }
}

/// IEEE half conversions for the tests, independent of the library's.
enum Float16Bits {
    /// The value of half bits (normal and zero halves only, as the tests use).
    static func value(_ bits: UInt16) -> Double {
        let exponent = Int(bits >> 10) & 31, mantissa = Double(bits & 0x3FF)
        let magnitude = exponent == 0 ? mantissa * pow(2, -24) : (1 + mantissa / 1024) * pow(2, Double(exponent - 15))
        return bits & 0x8000 != 0 ? -magnitude : magnitude
    }

    /// The half bits nearest above `value` (positive normal values only); rounding up keeps scales large enough.
    static func round(_ value: Float) -> UInt16 {
        var bits: UInt16 = 0x0400
        while bits < 0x7BFF, Self.value(bits) < Double(value) { bits += 1 }
        return bits
    }
}
