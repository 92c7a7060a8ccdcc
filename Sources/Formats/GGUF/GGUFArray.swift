/// A metadata array: elements of one stored type, kept in a compact typed array (a vocabulary of 49,152
/// strings is one `[String]`, not 49,152 boxed values).
///
/// It is a random-access collection of `GGUFValue`, and the bulk accessors (`strings`, `ints`, `floats`,
/// `bools`) convert the whole array at once.
public enum GGUFArray: Sendable, Equatable, RandomAccessCollection, CustomStringConvertible {
    case uint8([UInt8])
    case int8([Int8])
    case uint16([UInt16])
    case int16([Int16])
    case uint32([UInt32])
    case int32([Int32])
    case float32([Float])
    case bool([Bool])
    case string([String])
    case array([GGUFArray])
    case uint64([UInt64])
    case int64([Int64])
    case float64([Double])

    /// The stored type of every element.
    public var elementType: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .float32: return .float32
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        case .uint64: return .uint64
        case .int64: return .int64
        case .float64: return .float64
        }
    }

    public var startIndex: Int { 0 }

    public var endIndex: Int {
        switch self {
        case .uint8(let values): return values.count
        case .int8(let values): return values.count
        case .uint16(let values): return values.count
        case .int16(let values): return values.count
        case .uint32(let values): return values.count
        case .int32(let values): return values.count
        case .float32(let values): return values.count
        case .bool(let values): return values.count
        case .string(let values): return values.count
        case .array(let values): return values.count
        case .uint64(let values): return values.count
        case .int64(let values): return values.count
        case .float64(let values): return values.count
        }
    }

    /// The element at `position`, boxed as a `GGUFValue`.
    public subscript(position: Int) -> GGUFValue {
        switch self {
        case .uint8(let values): return .uint8(values[position])
        case .int8(let values): return .int8(values[position])
        case .uint16(let values): return .uint16(values[position])
        case .int16(let values): return .int16(values[position])
        case .uint32(let values): return .uint32(values[position])
        case .int32(let values): return .int32(values[position])
        case .float32(let values): return .float32(values[position])
        case .bool(let values): return .bool(values[position])
        case .string(let values): return .string(values[position])
        case .array(let values): return .array(values[position])
        case .uint64(let values): return .uint64(values[position])
        case .int64(let values): return .int64(values[position])
        case .float64(let values): return .float64(values[position])
        }
    }

    /// All elements, when the array holds strings.
    public var strings: [String]? {
        if case .string(let values) = self { return values }
        return nil
    }

    /// All elements as `Int`, when the array holds integers that all fit.
    public var ints: [Int]? {
        switch self {
        case .uint8(let values): return values.map { Int($0) }
        case .int8(let values): return values.map { Int($0) }
        case .uint16(let values): return values.map { Int($0) }
        case .int16(let values): return values.map { Int($0) }
        case .uint32(let values): return values.map { Int($0) }
        case .int32(let values): return values.map { Int($0) }
        case .uint64(let values):
            var result: [Int] = []
            result.reserveCapacity(values.count)
            for value in values {
                guard let converted = Int(exactly: value) else { return nil }
                result.append(converted)
            }
            return result
        case .int64(let values): return values.map { Int($0) }
        default: return nil
        }
    }

    /// All elements as `Double`, when the array holds `f32` or `f64`.
    public var floats: [Double]? {
        switch self {
        case .float32(let values): return values.map { Double($0) }
        case .float64(let values): return values
        default: return nil
        }
    }

    /// All elements, when the array holds booleans.
    public var bools: [Bool]? {
        if case .bool(let values) = self { return values }
        return nil
    }

    public var description: String {
        let shown = prefix(8).map(\.description).joined(separator: ", ")
        return count > 8 ? "[\(shown), … (\(count) \(elementType))]" : "[\(shown)]"
    }
}
