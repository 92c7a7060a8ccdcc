/// The element types a safetensors file may declare, spelled as in the file's `dtype` field.
///
/// Values are stored little-endian. `BOOL` occupies one byte per element.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    /// IEEE 754 binary64.
    case F64
    /// IEEE 754 binary32.
    case F32
    /// IEEE 754 binary16 (half precision).
    case F16
    /// bfloat16: the upper 16 bits of a binary32.
    case BF16
    /// Signed 64-bit integer.
    case I64
    /// Signed 32-bit integer.
    case I32
    /// Signed 16-bit integer.
    case I16
    /// Signed 8-bit integer.
    case I8
    /// Unsigned 8-bit integer.
    case U8
    /// Boolean, one byte per element (zero is false).
    case BOOL

    /// The number of bytes one element occupies.
    public var byteSize: Int {
        switch self {
        case .F64, .I64: return 8
        case .F32, .I32: return 4
        case .F16, .BF16, .I16: return 2
        case .I8, .U8, .BOOL: return 1
        }
    }

    /// The position of this dtype in the reference implementation's list of dtypes, which is ordered
    /// by increasing alignment. Writers lay tensors out by decreasing rank, so that every tensor
    /// starts at a multiple of its element size.
    var layoutRank: Int {
        switch self {
        case .BOOL: return 0
        case .U8: return 1
        case .I8: return 2
        case .I16: return 5
        case .F16: return 7
        case .BF16: return 8
        case .I32: return 9
        case .F32: return 11
        case .F64: return 12
        case .I64: return 13
        }
    }
}
