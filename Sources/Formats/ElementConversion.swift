import Foundation

/// Exact conversions from the stored little-endian element encodings to `Float` and `Int64`.
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
