/// One metadata value of a GGUF file, with its exact stored type.
///
/// The typed accessors (`string`, `int`, `float`, `bool`, `array`) return `nil` when the value has another
/// type, so callers can write `metadata["llama.block_count"]?.int`.
public enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array(GGUFArray)
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The stored type.
    public var type: GGUFValueType {
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

    /// The value of a string.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The value of any integer type, when it fits in `Int`.
    public var int: Int? {
        switch self {
        case .uint8(let value): return Int(value)
        case .int8(let value): return Int(value)
        case .uint16(let value): return Int(value)
        case .int16(let value): return Int(value)
        case .uint32(let value): return Int(value)
        case .int32(let value): return Int(value)
        case .uint64(let value): return Int(exactly: value)
        case .int64(let value): return Int(exactly: value)
        default: return nil
        }
    }

    /// The value of a `f32` or `f64`, widened to `Double` (exact for `f32`).
    public var float: Double? {
        switch self {
        case .float32(let value): return Double(value)
        case .float64(let value): return value
        default: return nil
        }
    }

    /// The value of a `bool`.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements of an array.
    public var array: GGUFArray? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var description: String {
        switch self {
        case .uint8(let value): return "\(value)"
        case .int8(let value): return "\(value)"
        case .uint16(let value): return "\(value)"
        case .int16(let value): return "\(value)"
        case .uint32(let value): return "\(value)"
        case .int32(let value): return "\(value)"
        case .float32(let value): return "\(value)"
        case .bool(let value): return "\(value)"
        case .string(let value): return "\"\(value)\""
        case .array(let value): return value.description
        case .uint64(let value): return "\(value)"
        case .int64(let value): return "\(value)"
        case .float64(let value): return "\(value)"
        }
    }
}
