/// Decoding of the plain floating-point types: F32, F16 and BF16 (one value per "block").
enum FloatDequantization {
    /// The exact `Float` value of IEEE half-precision bits (every half is representable as a `Float`).
    /// Infinities keep their sign; NaNs keep their payload.
    @inline(__always)
    static func float(fromHalf bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {
            // Zero or subnormal: mantissa × 2⁻²⁴, exact in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        // Normal: rebias the exponent from 15 to 127 and widen the mantissa from 10 to 23 bits.
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// The `Float` value of bfloat16 bits (the top half of a float32).
    @inline(__always)
    static func float(fromBrainHalf bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Reads little-endian half bits at `offset` and widens them.
    @inline(__always)
    static func loadHalf(_ source: UnsafeRawPointer, _ offset: Int) -> Float {
        float(fromHalf: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// Copies `count` little-endian float32 values.
    static func decodeF32(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, count: Int) {
        #if _endian(little)
        UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
        #else
        for index in 0 ..< count {
            let bits = UInt32(littleEndian: source.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
            destination[index] = Float(bitPattern: bits)
        }
        #endif
    }

    /// Widens `count` half-precision values.
    static func decodeF16(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, count: Int) {
        for index in 0 ..< count {
            destination[index] = loadHalf(source, index * 2)
        }
    }

    /// Widens `count` bfloat16 values.
    static func decodeBF16(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, count: Int) {
        for index in 0 ..< count {
            let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))
            destination[index] = float(fromBrainHalf: bits)
        }
    }
}
