/// GPT-2's reversible map between bytes and printable Unicode scalars, which lets a byte-level BPE
/// vocabulary store arbitrary bytes as text.
///
/// The printable bytes `!`…`~`, `¡`…`¬` and `®`…`ÿ` stand for themselves; the other 68 bytes
/// (controls, space, DEL, NBSP, soft hyphen, ...) take the scalars U+0100, U+0101, ... in byte
/// order. So a space is `Ġ` (U+0120) and a newline `Ċ` (U+010A).
enum ByteLevelMapping {
    /// The scalar that stands for each byte.
    static let scalarForByte: [Unicode.Scalar] = {
        var scalars = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if standsForItself(UInt8(byte)) {
                scalars[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                scalars[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return scalars
    }()

    /// The UTF-8 encoding of `scalarForByte[byte]` (one or two bytes).
    static let utf8ForByte: [[UInt8]] = scalarForByte.map { Array(String($0).utf8) }

    /// The byte each mapped scalar stands for, indexed by scalar value (all lie below U+0144).
    static let byteForScalarValue: [Int16] = {
        var bytes = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarForByte.enumerated() {
            bytes[Int(scalar.value)] = Int16(byte)
        }
        return bytes
    }()

    /// The byte `scalar` stands for, or nil when it is not one of the 256 mapped scalars.
    @inline(__always)
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = Int(scalar.value)
        guard value < byteForScalarValue.count else { return nil }
        let byte = byteForScalarValue[value]
        return byte < 0 ? nil : UInt8(byte)
    }

    /// The mapped form of `bytes`: one scalar per byte.
    static func mappedString<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var view = String.UnicodeScalarView()
        for byte in bytes { view.append(scalarForByte[Int(byte)]) }
        return String(view)
    }

    /// The bytes a token string stands for. A token holding a scalar outside the map (an added
    /// token such as `<|im_start|>` is fine: printable ASCII maps to itself) gives its own UTF-8
    /// bytes instead, as the reference decoder does.
    static func bytes(ofToken token: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            guard let byte = byte(for: scalar) else { return Array(token.utf8) }
            bytes.append(byte)
        }
        return bytes
    }

    private static func standsForItself(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }
}
