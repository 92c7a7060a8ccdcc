/// Decoding of ggml's 32-value block quantisations Q8_0, Q4_0 and Q4_1.
///
/// Layouts (little-endian, packed, `d` and `m` are IEEE halves):
///
/// ```
/// Q8_0  34 bytes: d, q[32] (int8)                 x[j] = d · q[j]
/// Q4_0  18 bytes: d, qs[16] (two 4-bit quants)    x[j] = d · ((qs[j] & 15) − 8),  x[j+16] = d · ((qs[j] >> 4) − 8)
/// Q4_1  20 bytes: d, m, qs[16]                    x[j] = d · (qs[j] & 15) + m,    x[j+16] = d · (qs[j] >> 4) + m
/// ```
///
/// `d · q` is exact in float32 (an 11-bit significand times a quant of at most 8 bits), so these results are
/// bit-identical to any correct reference, with or without fused multiply-add.
enum BlockDequantization {
    static let valuesPerBlock = 32

    /// Decodes `blockCount` Q8_0 blocks into `blockCount × 32` values.
    static func decodeQ8_0(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, blockCount: Int) {
        for block in 0 ..< blockCount {
            let base = source + block * 34
            let scale = FloatDequantization.loadHalf(base, 0)
            let quants = (base + 2).assumingMemoryBound(to: UInt8.self)
            let output = destination + block * valuesPerBlock
            for index in 0 ..< 32 {
                output[index] = scale * Float(Int8(bitPattern: quants[index]))
            }
        }
    }

    /// Decodes `blockCount` Q4_0 blocks into `blockCount × 32` values.
    static func decodeQ4_0(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, blockCount: Int) {
        for block in 0 ..< blockCount {
            let base = source + block * 18
            let scale = FloatDequantization.loadHalf(base, 0)
            let quants = (base + 2).assumingMemoryBound(to: UInt8.self)
            let output = destination + block * valuesPerBlock
            for index in 0 ..< 16 {
                let byte = quants[index]
                output[index] = scale * Float(Int32(byte & 0x0F) - 8)
                output[index + 16] = scale * Float(Int32(byte >> 4) - 8)
            }
        }
    }

    /// Decodes `blockCount` Q4_1 blocks into `blockCount × 32` values.
    static func decodeQ4_1(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, blockCount: Int) {
        for block in 0 ..< blockCount {
            let base = source + block * 20
            let scale = FloatDequantization.loadHalf(base, 0)
            let minimum = FloatDequantization.loadHalf(base, 2)
            let quants = (base + 4).assumingMemoryBound(to: UInt8.self)
            let output = destination + block * valuesPerBlock
            for index in 0 ..< 16 {
                let byte = quants[index]
                output[index] = scale * Float(byte & 0x0F) + minimum
                output[index + 16] = scale * Float(byte >> 4) + minimum
            }
        }
    }
}
