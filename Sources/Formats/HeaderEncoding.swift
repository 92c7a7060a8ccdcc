/// Compact JSON output for safetensors headers, byte-compatible with the reference writer:
/// no whitespace, non-ASCII text written raw, and only `"`, `\` and control characters escaped
/// (`\b \f \n \r \t` by letter, the others as `\u00xx` with lowercase hex digits).
struct HeaderEncoding {
    private(set) var bytes: [UInt8] = []

    mutating func append(raw text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func append(string: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append(raw: "\\\"")
            case UInt8(ascii: "\\"): append(raw: "\\\\")
            case 0x08: append(raw: "\\b")
            case 0x0C: append(raw: "\\f")
            case 0x0A: append(raw: "\\n")
            case 0x0D: append(raw: "\\r")
            case 0x09: append(raw: "\\t")
            case 0..<0x20:
                let digits: [UInt8] = Array("0123456789abcdef".utf8)
                append(raw: "\\u00")
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0F)])
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func append(integer: Int) {
        bytes.append(contentsOf: String(integer).utf8)
    }

    mutating func append(integers: [Int]) {
        append(raw: "[")
        for (index, value) in integers.enumerated() {
            if index > 0 {
                append(raw: ",")
            }
            append(integer: value)
        }
        append(raw: "]")
    }

    /// Pads with spaces to the next multiple of `alignment` bytes.
    mutating func pad(toMultipleOf alignment: Int) {
        let remainder = bytes.count % alignment
        if remainder != 0 {
            bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: alignment - remainder))
        }
    }
}
