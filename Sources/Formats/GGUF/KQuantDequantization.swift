/// Decoding of ggml's K-quants Q4_K, Q5_K and Q6_K: super-blocks of 256 values made of sub-blocks that
/// each have their own quantised scale (and, for Q4_K and Q5_K, minimum).
///
/// Layouts (little-endian, packed, `d` and `dmin` are IEEE halves):
///
/// ```
/// Q4_K 144 bytes: d, dmin, scales[12], qs[128]
/// Q5_K 176 bytes: d, dmin, scales[12], qh[32], qs[128]
/// Q6_K 210 bytes: ql[128], qh[64], scales[16] (int8), d
/// ```
///
/// Q4_K and Q5_K have eight sub-blocks of 32 values. Sub-block `j` has a 6-bit scale `sc[j]` and a 6-bit
/// minimum `m[j]`, packed in `scales` (see `scaleAndMinimum`), and its values are
/// `(d · sc[j]) · q − (dmin · m[j])`. The quants come in four groups of 64 values: group `g` reads the 32
/// bytes `qs[32g ..< 32g+32]`, whose low nibbles are sub-block `2g` and high nibbles sub-block `2g+1`. Q5_K
/// adds a fifth bit from `qh[l]`: bit `2g` for sub-block `2g`, bit `2g+1` for sub-block `2g+1`.
///
/// Q6_K has sixteen sub-blocks of 16 values, each with an int8 scale, and values `(d · scale) · (q − 32)` for
/// 6-bit `q`. Each half of 128 values reads 64 bytes of `ql` and 32 of `qh`; for `l < 32` its four values
/// `l`, `l+32`, `l+64`, `l+96` take their low four bits from `ql[l] & 15`, `ql[l+32] & 15`, `ql[l] >> 4`,
/// `ql[l+32] >> 4` and their top two bits from bits 0–1, 2–3, 4–5, 6–7 of `qh[l]`.
enum KQuantDequantization {
    static let valuesPerSuperBlock = 256

    /// The 6-bit scale and minimum of sub-block `index` (0…7) from the 12 packed bytes: sub-blocks 0–3 keep
    /// theirs in the low 6 bits of bytes `index` (scale) and `index + 4` (minimum); sub-blocks 4–7 keep their
    /// low 4 bits in byte `index + 4` (scale low nibble, minimum high nibble) and their top 2 bits in the top
    /// bits of bytes `index − 4` (scale) and `index` (minimum).
    @inline(__always)
    static func scaleAndMinimum(_ index: Int, _ packed: UnsafePointer<UInt8>) -> (scale: UInt8, minimum: UInt8) {
        if index < 4 {
            return (packed[index] & 63, packed[index + 4] & 63)
        }
        let scale = (packed[index + 4] & 0x0F) | ((packed[index - 4] >> 6) << 4)
        let minimum = (packed[index + 4] >> 4) | ((packed[index] >> 6) << 4)
        return (scale, minimum)
    }

    /// Decodes `blockCount` Q4_K super-blocks into `blockCount × 256` values.
    static func decodeQ4_K(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, blockCount: Int) {
        for block in 0 ..< blockCount {
            let base = source + block * 144
            let scale = FloatDequantization.loadHalf(base, 0)
            let minimumScale = FloatDequantization.loadHalf(base, 2)
            let packedScales = (base + 4).assumingMemoryBound(to: UInt8.self)
            let quants = (base + 16).assumingMemoryBound(to: UInt8.self)
            let output = destination + block * valuesPerSuperBlock
            for group in 0 ..< 4 {
                let (lowScale, lowMinimum) = scaleAndMinimum(2 * group, packedScales)
                let (highScale, highMinimum) = scaleAndMinimum(2 * group + 1, packedScales)
                let lowStep = scale * Float(lowScale), lowOffset = minimumScale * Float(lowMinimum)
                let highStep = scale * Float(highScale), highOffset = minimumScale * Float(highMinimum)
                let bytes = quants + 32 * group
                let groupOutput = output + 64 * group
                for index in 0 ..< 32 {
                    let byte = bytes[index]
                    groupOutput[index] = lowStep * Float(byte & 0x0F) - lowOffset
                    groupOutput[index + 32] = highStep * Float(byte >> 4) - highOffset
                }
            }
        }
    }

    /// Decodes `blockCount` Q5_K super-blocks into `blockCount × 256` values.
    static func decodeQ5_K(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, blockCount: Int) {
        for block in 0 ..< blockCount {
            let base = source + block * 176
            let scale = FloatDequantization.loadHalf(base, 0)
            let minimumScale = FloatDequantization.loadHalf(base, 2)
            let packedScales = (base + 4).assumingMemoryBound(to: UInt8.self)
            let highBits = (base + 16).assumingMemoryBound(to: UInt8.self)
            let quants = (base + 48).assumingMemoryBound(to: UInt8.self)
            let output = destination + block * valuesPerSuperBlock
            for group in 0 ..< 4 {
                let (lowScale, lowMinimum) = scaleAndMinimum(2 * group, packedScales)
                let (highScale, highMinimum) = scaleAndMinimum(2 * group + 1, packedScales)
                let lowStep = scale * Float(lowScale), lowOffset = minimumScale * Float(lowMinimum)
                let highStep = scale * Float(highScale), highOffset = minimumScale * Float(highMinimum)
                let lowShift = UInt8(2 * group), highShift = UInt8(2 * group + 1)
                let bytes = quants + 32 * group
                let groupOutput = output + 64 * group
                for index in 0 ..< 32 {
                    let byte = bytes[index]
                    let fifthBits = highBits[index]
                    let low = (byte & 0x0F) | (((fifthBits >> lowShift) & 1) << 4)
                    let high = (byte >> 4) | (((fifthBits >> highShift) & 1) << 4)
                    groupOutput[index] = lowStep * Float(low) - lowOffset
                    groupOutput[index + 32] = highStep * Float(high) - highOffset
                }
            }
        }
    }

    /// Decodes `blockCount` Q6_K super-blocks into `blockCount × 256` values.
    static func decodeQ6_K(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, blockCount: Int) {
        for block in 0 ..< blockCount {
            let base = source + block * 210
            let lowBits = base.assumingMemoryBound(to: UInt8.self)
            let highBits = lowBits + 128
            let scaleBytes = lowBits + 192
            let scale = FloatDequantization.loadHalf(base, 208)
            let output = destination + block * valuesPerSuperBlock
            for half in 0 ..< 2 {
                let low = lowBits + 64 * half
                let high = highBits + 32 * half
                let halfOutput = output + 128 * half
                for part in 0 ..< 2 {
                    // Values 16·part ..< 16·part+16 of each 32-value quarter belong to sub-block
                    // 8·half + part + 2·quarter. Steps d · scale are exact: an 11-bit significand times an int8.
                    func step(_ quarter: Int) -> Float {
                        scale * Float(Int8(bitPattern: scaleBytes[8 * half + part + 2 * quarter]))
                    }
                    let (step0, step1, step2, step3) = (step(0), step(1), step(2), step(3))
                    for index in 16 * part ..< 16 * part + 16 {
                        let top = high[index]
                        let quant0 = Int32((low[index] & 0x0F) | ((top & 3) << 4)) - 32
                        let quant1 = Int32((low[index + 32] & 0x0F) | (((top >> 2) & 3) << 4)) - 32
                        let quant2 = Int32((low[index] >> 4) | (((top >> 4) & 3) << 4)) - 32
                        let quant3 = Int32((low[index + 32] >> 4) | (((top >> 6) & 3) << 4)) - 32
                        halfOutput[index] = step0 * Float(quant0)
                        halfOutput[index + 32] = step1 * Float(quant1)
                        halfOutput[index + 64] = step2 * Float(quant2)
                        halfOutput[index + 96] = step3 * Float(quant3)
                    }
                }
            }
        }
    }
}
