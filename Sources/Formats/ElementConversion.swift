import Foundation

/// Exact conversions from the stored little-endian element encodings to `Float` and `Int64`, and
/// the rounding conversions from `Float` to the 16-bit encodings a writer narrows to.
enum ElementConversion {
    /// The binary32 value of an IEEE 754 binary16 bit pattern. Every binary16 value, subnormals,
    /// infinities and NaN payloads included, is exactly representable as a binary32.
    static func float(fromHalfBits bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2^-24, exact since mantissa < 2^10.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            // Infinity (mantissa 0) or NaN, keeping the payload in the top mantissa bits.
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            // Normal: rebias the exponent from 15 to 127.
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }

    /// The binary32 value of a bfloat16 bit pattern: its bits are the upper half of a binary32.
    static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// The bfloat16 bit pattern nearest to `value`, ties to even (PyTorch's `.to(torch.bfloat16)`).
    /// NaN stays a quiet NaN of the same sign; values past the largest bfloat16 become infinity.
    static func bfloat16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let roundingBias = 0x7FFF + (bits >> 16 & 1)  // adds half an ulp; an exact tie rounds to the even side
        return UInt16(truncatingIfNeeded: (bits &+ roundingBias) >> 16)
    }

    /// The IEEE 754 binary16 bit pattern nearest to `value`, ties to even (PyTorch's
    /// `.to(torch.float16)`): subnormal halves for magnitudes below 2⁻¹⁴, infinity from 65520 on.
    /// NaN stays a quiet NaN of the same sign, keeping the top of its payload.
    static func halfBits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: bits >> 16) & 0x8000
        let exponent = Int(bits >> 23 & 0xFF)
        let mantissa = bits & 0x007F_FFFF
        if exponent == 0xFF {  // infinity or NaN
            return mantissa == 0 ? sign | 0x7C00 : sign | 0x7E00 | UInt16(truncatingIfNeeded: mantissa >> 13)
        }
        let halfExponent = exponent - 127 + 15
        if halfExponent >= 0x1F { return sign | 0x7C00 }
        // The significand with its implicit bit, and how far right it moves to land on the half's
        // last mantissa bit: 13 for a normal half, more for a subnormal one.
        let significand = exponent == 0 ? mantissa : mantissa | 0x0080_0000
        let shift = halfExponent > 0 ? 13 : 14 - halfExponent
        guard shift < 32 else { return sign }
        let kept = significand >> UInt32(shift)
        let remainder = significand & ((1 << UInt32(shift)) - 1)
        let half = UInt32(1) << UInt32(shift - 1)
        var result = halfExponent > 0 ? UInt32(halfExponent) << 10 | (kept & 0x3FF) : kept
        if remainder > half || (remainder == half && result & 1 == 1) { result += 1 }  // may carry into the exponent: still right
        return sign | UInt16(truncatingIfNeeded: result)
    }

    /// Decodes `count` elements of a floating-point `dtype` from `bytes`, or returns `nil` when
    /// `dtype` is not a floating-point type. `bytes` must hold exactly `count` elements.
    static func floats(from bytes: UnsafeRawBufferPointer, dtype: SafeTensorsDType, count: Int) -> [Float]? {
        precondition(bytes.count == count * dtype.byteSize)
        switch dtype {
        case .F32:
            #if _endian(little)
                return [Float](unsafeUninitializedCapacity: count) { buffer, initializedCount in
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes)
                    initializedCount = count
                }
            #else
                return decode(bytes, count: count) { Float(bitPattern: UInt32(littleEndian: $0)) }
            #endif
        case .F64:
            return decode(bytes, count: count) { Float(Double(bitPattern: UInt64(littleEndian: $0))) }
        case .F16:
            return decode(bytes, count: count) { float(fromHalfBits: UInt16(littleEndian: $0)) }
        case .BF16:
            return decode(bytes, count: count) { float(fromBFloat16Bits: UInt16(littleEndian: $0)) }
        case .I64, .I32, .I16, .I8, .U8, .BOOL:
            return nil
        }
    }

    /// Decodes `count` elements of an integer or boolean `dtype` from `bytes`, or returns `nil`
    /// when `dtype` is a floating-point type. Booleans become 0 or 1 (any non-zero byte is true).
    static func int64s(from bytes: UnsafeRawBufferPointer, dtype: SafeTensorsDType, count: Int) -> [Int64]? {
        precondition(bytes.count == count * dtype.byteSize)
        switch dtype {
        case .I64:
            return decode(bytes, count: count) { Int64(bitPattern: UInt64(littleEndian: $0)) }
        case .I32:
            return decode(bytes, count: count) { Int64(Int32(bitPattern: UInt32(littleEndian: $0))) }
        case .I16:
            return decode(bytes, count: count) { Int64(Int16(bitPattern: UInt16(littleEndian: $0))) }
        case .I8:
            return decode(bytes, count: count) { (byte: UInt8) in Int64(Int8(bitPattern: byte)) }
        case .U8:
            return decode(bytes, count: count) { (byte: UInt8) in Int64(byte) }
        case .BOOL:
            return decode(bytes, count: count) { (byte: UInt8) in byte == 0 ? 0 : 1 }
        case .F64, .F32, .F16, .BF16:
            return nil
        }
    }

    /// Loads `count` raw words of type `Word` (unaligned) and converts each one.
    private static func decode<Word: FixedWidthInteger, Element>(
        _ bytes: UnsafeRawBufferPointer, count: Int, _ convert: (Word) -> Element
    ) -> [Element] {
        [Element](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            let stride = MemoryLayout<Word>.size
            for index in 0..<count {
                let word = bytes.loadUnaligned(fromByteOffset: index * stride, as: Word.self)
                (buffer.baseAddress! + index).initialize(to: convert(word))
            }
            initializedCount = count
        }
    }
}
