/// A JSON value as found in a safetensors header.
///
/// Objects keep their members in file order together with the position of each key, so that
/// errors can point at the offending bytes. Integers are kept exact; any other number (fraction,
/// exponent, or an integer outside `Int`) is kept only as its text, since no header field may hold one.
indirect enum JSONValue {
    case object([JSONMember])
    case array([JSONValue])
    case string(String)
    case integer(Int)
    case otherNumber(String)
    case boolean(Bool)
    case null

    /// How the value's type reads in an error message ("a string", "an array", ...).
    var typeDescription: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .integer: return "an integer"
        case .otherNumber(let text): return "the number \(text)"
        case .boolean: return "a boolean"
        case .null: return "null"
        }
    }
}

/// One `"key": value` pair of a JSON object.
struct JSONMember {
    let key: String
    let value: JSONValue
    /// The position of the key's opening quote, counted from the first byte of the JSON text.
    let offset: Int
}

/// A syntax error in JSON text, located by the byte position where parsing stopped.
struct JSONSyntaxError: Error {
    /// Position counted from the first byte of the JSON text.
    let offset: Int
    let detail: String
    /// For duplicate keys: the key that appears twice.
    var duplicateKey: String? = nil
}

/// A strict JSON parser (RFC 8259) over raw bytes, recursive but depth-limited.
///
/// It is written for untrusted input: nesting deeper than ``maximumDepth`` is refused instead of
/// exhausting the stack, strings must be valid UTF-8 without raw control characters or unpaired
/// surrogate escapes, and a key that appears twice in one object is an error.
/// Keys are compared as Swift strings, so canonically equivalent spellings count as duplicates.
struct JSONParser {
    /// The deepest nesting accepted. A safetensors header needs 3 levels.
    static let maximumDepth = 64

    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    private init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Parses `bytes` as exactly one JSON value, optionally surrounded by whitespace.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.position != bytes.count {
            throw parser.failure("unexpected \(parser.describeCurrentByte()) after the end of the JSON value")
        }
        return value
    }

    // MARK: - Values

    private mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth < Self.maximumDepth else {
            throw failure("JSON nested deeper than \(Self.maximumDepth) levels")
        }
        guard let byte = currentByte else {
            throw failure("unexpected end of the JSON text")
        }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .boolean(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .boolean(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        default:
            throw failure("unexpected \(describeCurrentByte()) where a JSON value should start")
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        position += 1  // "{"
        var members: [JSONMember] = []
        var seenKeys = Set<String>()
        skipWhitespace()
        if currentByte == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            guard currentByte == UInt8(ascii: "\"") else {
                throw failure("expected a string key, found \(describeCurrentByte())")
            }
            let keyOffset = position
            let key = try parseString()
            if !seenKeys.insert(key).inserted {
                throw JSONSyntaxError(offset: keyOffset, detail: "duplicate key in a JSON object", duplicateKey: key)
            }
            skipWhitespace()
            guard currentByte == UInt8(ascii: ":") else {
                throw failure("expected ':' after a key, found \(describeCurrentByte())")
            }
            position += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            members.append(JSONMember(key: key, value: value, offset: keyOffset))
            skipWhitespace()
            switch currentByte {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                position += 1
                return .object(members)
            default:
                throw failure("expected ',' or '}' in an object, found \(describeCurrentByte())")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        position += 1  // "["
        var elements: [JSONValue] = []
        skipWhitespace()
        if currentByte == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            switch currentByte {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                position += 1
                return .array(elements)
            default:
                throw failure("expected ',' or ']' in an array, found \(describeCurrentByte())")
            }
        }
    }

    // MARK: - Strings

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let openingQuote = position
        position += 1
        let contentStart = position
        var isASCII = true
        // Fast path: no escapes, so the content is a slice of the input.
        while let byte = currentByte {
            if byte == UInt8(ascii: "\"") {
                let content = UnsafeRawBufferPointer(rebasing: bytes[contentStart..<position])
                position += 1
                return try makeString(content, isASCII: isASCII, openingQuote: openingQuote)
            }
            if byte == UInt8(ascii: "\\") {
                break
            }
            if byte < 0x20 {
                throw failure("raw control character 0x\(hex(byte)) inside a string")
            }
            if byte >= 0x80 {
                isASCII = false
            }
            position += 1
        }
        guard currentByte != nil else {
            throw JSONSyntaxError(offset: openingQuote, detail: "unterminated string")
        }
        // Slow path: copy the content while decoding escapes.
        var content = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[contentStart..<position]))
        while let byte = currentByte {
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return try makeString(content, isASCII: isASCII, openingQuote: openingQuote)
            case UInt8(ascii: "\\"):
                let scalar = try parseEscape()
                if !scalar.isASCII {
                    isASCII = false
                }
                Unicode.UTF8.encode(scalar) { content.append($0) }
            case 0..<0x20:
                throw failure("raw control character 0x\(hex(byte)) inside a string")
            default:
                if byte >= 0x80 {
                    isASCII = false
                }
                content.append(byte)
                position += 1
            }
        }
        throw JSONSyntaxError(offset: openingQuote, detail: "unterminated string")
    }

    /// Decodes one escape sequence starting at a backslash, including a surrogate pair.
    private mutating func parseEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
        let escapeStart = position
        position += 1  // "\"
        guard let letter = currentByte else {
            throw JSONSyntaxError(offset: escapeStart, detail: "unterminated escape sequence")
        }
        position += 1
        switch letter {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let first = try parseHexQuad(escapeStart: escapeStart)
            switch first {
            case 0xD800...0xDBFF:
                guard currentByte == UInt8(ascii: "\\"), byte(at: position + 1) == UInt8(ascii: "u") else {
                    throw JSONSyntaxError(offset: escapeStart, detail: "unpaired high surrogate escape")
                }
                let secondStart = position
                position += 2
                let second = try parseHexQuad(escapeStart: secondStart)
                guard (0xDC00...0xDFFF).contains(second) else {
                    throw JSONSyntaxError(offset: escapeStart, detail: "unpaired high surrogate escape")
                }
                let value = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                return Unicode.Scalar(value)!  // in 0x10000...0x10FFFF by construction
            case 0xDC00...0xDFFF:
                throw JSONSyntaxError(offset: escapeStart, detail: "unpaired low surrogate escape")
            default:
                return Unicode.Scalar(first)!  // not a surrogate, so a valid scalar
            }
        default:
            throw JSONSyntaxError(offset: escapeStart, detail: "invalid escape sequence")
        }
    }

    private mutating func parseHexQuad(escapeStart: Int) throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = currentByte, let digit = hexDigitValue(byte) else {
                throw JSONSyntaxError(offset: escapeStart, detail: "\\u escape needs four hexadecimal digits")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private func makeString<Bytes: Collection<UInt8>>(
        _ content: Bytes, isASCII: Bool, openingQuote: Int
    ) throws(JSONSyntaxError) -> String {
        if !isASCII && !Self.isValidUTF8(content) {
            throw JSONSyntaxError(offset: openingQuote, detail: "string is not valid UTF-8")
        }
        return String(decoding: content, as: UTF8.self)
    }

    /// Whether `bytes` is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
    static func isValidUTF8<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Bool {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    // MARK: - Numbers and literals

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = position
        let isNegative = currentByte == UInt8(ascii: "-")
        if isNegative {
            position += 1
        }
        guard let firstDigit = currentByte, isDigit(firstDigit) else {
            throw failure("a number needs a digit after '-'")
        }
        var magnitude = 0
        var fitsInInt = true
        if firstDigit == UInt8(ascii: "0") {
            position += 1
        } else {
            while let byte = currentByte, isDigit(byte) {
                let (shifted, overflowOfShift) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, overflowOfSum) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                if overflowOfShift || overflowOfSum {
                    fitsInInt = false
                }
                magnitude = sum
                position += 1
            }
        }
        var isInteger = true
        if currentByte == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            try skipDigits(what: "a fraction")
        }
        if currentByte == UInt8(ascii: "e") || currentByte == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if currentByte == UInt8(ascii: "+") || currentByte == UInt8(ascii: "-") {
                position += 1
            }
            try skipDigits(what: "an exponent")
        }
        if isInteger && fitsInInt {
            return .integer(isNegative ? -magnitude : magnitude)
        }
        let lexeme = UnsafeRawBufferPointer(rebasing: bytes[start..<min(position, start + 40)])
        let suffix = position - start > 40 ? "..." : ""
        return .otherNumber(String(decoding: lexeme, as: UTF8.self) + suffix)
    }

    private mutating func skipDigits(what: String) throws(JSONSyntaxError) {
        guard let byte = currentByte, isDigit(byte) else {
            throw failure("\(what) needs at least one digit")
        }
        while let byte = currentByte, isDigit(byte) {
            position += 1
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let start = position
        let expected = UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for byte in expected {
            guard currentByte == byte else {
                throw JSONSyntaxError(offset: start, detail: "invalid literal (expected \(literal))")
            }
            position += 1
        }
    }

    // MARK: - Bytes

    private var currentByte: UInt8? {
        byte(at: position)
    }

    private func byte(at index: Int) -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func skipWhitespace() {
        while let byte = currentByte,
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
                || byte == UInt8(ascii: "\t")
        {
            position += 1
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private func hexDigitValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    private func describeCurrentByte() -> String {
        guard let byte = currentByte else {
            return "end of the JSON text"
        }
        if byte >= 0x21 && byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        return "byte 0x\(hex(byte))"
    }

    private func failure(_ detail: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: position, detail: detail)
    }
}
