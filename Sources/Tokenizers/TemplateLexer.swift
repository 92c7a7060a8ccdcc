/// One token inside `{{ … }}` or `{% … %}`.
struct TemplateToken: Sendable {
    enum Kind: Equatable, Sendable {
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        /// An operator or bracket: `+`, `//`, `==`, `(`, `|`, ...
        case symbol(String)
        /// The end of the tag.
        case end
    }

    var kind: Kind
    var position: SourcePosition
}

/// A stretch of template source: literal text, an output tag or a statement tag.
enum TemplateChunk: Sendable {
    case text(String, SourcePosition)
    /// `{{ … }}`; the tokens end with `.end`.
    case output([TemplateToken], SourcePosition)
    /// `{% … %}`; the tokens end with `.end`.
    case statement([TemplateToken], SourcePosition)
}

/// Splits a template into chunks the way Jinja's lexer does with the settings chat templates are
/// rendered with (`trim_blocks` and `lstrip_blocks` on, `keep_trailing_newline` off):
/// - newlines (`\r\n`, `\r`, `\n`) become `\n`, and one newline at the very end is dropped;
/// - `{%-`, `{{-`, `{#-` strip all whitespace before the tag, and `-%}`, `-}}`, `-#}` all
///   whitespace after it;
/// - otherwise a `{% %}` or `{# #}` tag alone on its line after indentation takes the
///   indentation away (`lstrip_blocks`; `{%+` keeps it), and the first newline after `%}` or `#}`
///   is dropped (`trim_blocks`; `+%}` keeps it);
/// - comments vanish.
struct TemplateLexer {
    private let scalars: [Unicode.Scalar]
    /// Index of the first scalar of each line.
    private let lineStarts: [Int]

    init(source: String) {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(source.unicodeScalars.count)
        var previousWasReturn = false
        for scalar in source.unicodeScalars {
            if scalar == "\r" {
                scalars.append("\n")
                previousWasReturn = true
                continue
            }
            if scalar == "\n" && previousWasReturn {
                previousWasReturn = false
                continue
            }
            previousWasReturn = false
            scalars.append(scalar)
        }
        if scalars.last == "\n" { scalars.removeLast() }
        self.scalars = scalars
        var lineStarts = [0]
        for (index, scalar) in scalars.enumerated() where scalar == "\n" { lineStarts.append(index + 1) }
        self.lineStarts = lineStarts
    }

    /// The line and column of scalar `index`.
    func position(of index: Int) -> SourcePosition {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= index { low = middle } else { high = middle - 1 }
        }
        return SourcePosition(line: low + 1, column: index - lineStarts[low] + 1)
    }

    /// Python's `str.isspace`: the `White_Space` property plus the separators U+001C–U+001F.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 { return value == 0x20 || (0x09...0x0D).contains(value) || (0x1C...0x1F).contains(value) }
        return scalar.properties.isWhitespace
    }

    private enum TagKind { case output, statement, comment }

    func chunks() throws -> [TemplateChunk] {
        var chunks: [TemplateChunk] = []
        var index = 0
        var lineStarting = true
        let count = scalars.count
        while index < count {
            guard let tagStart = nextTag(from: index) else {
                appendText(index..<count, to: &chunks)
                break
            }
            let kind: TagKind
            switch scalars[tagStart + 1] {
            case "{": kind = .output
            case "%": kind = .statement
            default: kind = .comment
            }
            var textEnd = tagStart
            var bodyStart = tagStart + 2
            let marker = bodyStart < count ? scalars[bodyStart] : nil
            if marker == "-" {
                while textEnd > index && Self.isWhitespace(scalars[textEnd - 1]) { textEnd -= 1 }
                bodyStart += 1
            } else if marker == "+" {
                bodyStart += 1
            } else if kind != .output {
                textEnd = leftStrippedEnd(index..<tagStart, lineStarting: lineStarting)
            }
            appendText(index..<textEnd, to: &chunks)

            let tagPosition = position(of: tagStart)
            switch kind {
            case .comment:
                guard let closeStart = find("#}", from: bodyStart) else {
                    throw ChatTemplateError(.syntax, "the comment opened here is not closed with '#}'", at: tagPosition)
                }
                let stripAfter = closeStart > bodyStart && scalars[closeStart - 1] == "-"
                let keepNewline = closeStart > bodyStart && scalars[closeStart - 1] == "+"
                index = afterClose(closeStart + 2, stripAfter: stripAfter, trimNewline: !keepNewline)
            case .output, .statement:
                var tokens: [TemplateToken] = []
                let close = try tokenize(from: bodyStart, isOutput: kind == .output, tagPosition: tagPosition, into: &tokens)
                tokens.append(TemplateToken(kind: .end, position: position(of: close.start)))
                chunks.append(kind == .output ? .output(tokens, tagPosition) : .statement(tokens, tagPosition))
                index = afterClose(
                    close.end, stripAfter: close.stripAfter, trimNewline: kind == .statement && !close.keepNewline)
            }
            lineStarting = index > 0 && scalars[index - 1] == "\n"
        }
        return chunks
    }

    private func appendText(_ range: Range<Int>, to chunks: inout [TemplateChunk]) {
        guard !range.isEmpty else { return }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[range])
        chunks.append(.text(String(view), position(of: range.lowerBound)))
    }

    /// The first `{{`, `{%` or `{#` at or after `index`.
    private func nextTag(from index: Int) -> Int? {
        var position = index
        while position + 1 < scalars.count {
            if scalars[position] == "{" {
                let next = scalars[position + 1]
                if next == "{" || next == "%" || next == "#" { return position }
            }
            position += 1
        }
        return nil
    }

    /// `lstrip_blocks`: where the text before a statement or comment tag ends once the tag's
    /// indentation is taken away. Only whitespace may stand between the line's start and the tag.
    private func leftStrippedEnd(_ text: Range<Int>, lineStarting: Bool) -> Int {
        var lineStart = text.upperBound
        while lineStart > text.lowerBound && scalars[lineStart - 1] != "\n" { lineStart -= 1 }
        guard lineStart > text.lowerBound || lineStarting else { return text.upperBound }
        for index in lineStart..<text.upperBound where !Self.isWhitespace(scalars[index]) { return text.upperBound }
        return lineStart
    }

    /// Where text resumes after a tag's closing delimiter, which ends before `index`.
    private func afterClose(_ index: Int, stripAfter: Bool, trimNewline: Bool) -> Int {
        var position = index
        if stripAfter {
            while position < scalars.count && Self.isWhitespace(scalars[position]) { position += 1 }
        } else if trimNewline && position < scalars.count && scalars[position] == "\n" {
            position += 1
        }
        return position
    }

    private func find(_ text: String, from index: Int) -> Int? {
        let needle = Array(text.unicodeScalars)
        var position = index
        while position + needle.count <= scalars.count {
            if scalars[position..<(position + needle.count)].elementsEqual(needle) { return position }
            position += 1
        }
        return nil
    }

    private func matches(_ text: String, at index: Int) -> Bool {
        var position = index
        for scalar in text.unicodeScalars {
            guard position < scalars.count, scalars[position] == scalar else { return false }
            position += 1
        }
        return true
    }

    /// Where a tag's closing delimiter starts and ends, and its whitespace control.
    private struct Close {
        var start: Int
        var end: Int
        var stripAfter: Bool
        var keepNewline: Bool
    }

    private static let twoScalarSymbols: Set<String> = ["//", "**", "==", "!=", "<=", ">="]
    private static let oneScalarSymbols: Set<Unicode.Scalar> = [
        "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|",
    ]

    /// Reads the tokens of a tag from `index` up to its closing delimiter, which only counts
    /// outside brackets (so `{{ {'a': {'b': 1}} }}` works).
    private func tokenize(
        from index: Int, isOutput: Bool, tagPosition: SourcePosition, into tokens: inout [TemplateToken]
    ) throws -> Close {
        var position = index
        var brackets: [Unicode.Scalar] = []
        let closer = isOutput ? "}}" : "%}"
        while true {
            while position < scalars.count && Self.isWhitespace(scalars[position]) { position += 1 }
            guard position < scalars.count else {
                throw ChatTemplateError(
                    .syntax, "the tag opened here is not closed with '\(closer)'", at: tagPosition)
            }
            if brackets.isEmpty {
                if matches("-" + closer, at: position) {
                    return Close(start: position, end: position + 3, stripAfter: true, keepNewline: false)
                }
                if !isOutput && matches("+" + closer, at: position) {
                    return Close(start: position, end: position + 3, stripAfter: false, keepNewline: true)
                }
                if matches(closer, at: position) {
                    return Close(start: position, end: position + 2, stripAfter: false, keepNewline: false)
                }
            }
            let tokenPosition = self.position(of: position)
            let scalar = scalars[position]
            if scalar == "_" || scalar.properties.isAlphabetic {
                var end = position + 1
                while end < scalars.count
                    && (scalars[end] == "_" || scalars[end].properties.isAlphabetic || scalars[end].properties.numericType == .decimal) {
                    end += 1
                }
                tokens.append(TemplateToken(kind: .name(string(position..<end)), position: tokenPosition))
                position = end
            } else if ("0"..."9").contains(scalar) {
                let (kind, end) = try number(at: position, tokenPosition)
                tokens.append(TemplateToken(kind: kind, position: tokenPosition))
                position = end
            } else if scalar == "'" || scalar == "\"" {
                let (text, end) = try stringLiteral(at: position, tokenPosition)
                tokens.append(TemplateToken(kind: .string(text), position: tokenPosition))
                position = end
            } else if position + 1 < scalars.count, Self.twoScalarSymbols.contains(string(position..<(position + 2))) {
                tokens.append(TemplateToken(kind: .symbol(string(position..<(position + 2))), position: tokenPosition))
                position += 2
            } else if Self.oneScalarSymbols.contains(scalar) {
                switch scalar {
                case "(", "[", "{":
                    brackets.append(scalar)
                case ")", "]", "}":
                    let opener: Unicode.Scalar = scalar == ")" ? "(" : scalar == "]" ? "[" : "{"
                    guard brackets.last == opener else {
                        throw ChatTemplateError(.syntax, "unexpected '\(scalar)'", at: tokenPosition)
                    }
                    brackets.removeLast()
                default:
                    break
                }
                tokens.append(TemplateToken(kind: .symbol(String(scalar)), position: tokenPosition))
                position += 1
            } else {
                throw ChatTemplateError(.syntax, "unexpected character '\(scalar.escaped(asASCII: true))'", at: tokenPosition)
            }
        }
    }

    private func string(_ range: Range<Int>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[range])
        return String(view)
    }

    private func isDigit(_ index: Int) -> Bool {
        index < scalars.count && ("0"..."9").contains(scalars[index])
    }

    /// Digits with optional `_` between them, starting at `index`; the index after them.
    private func digitRun(from index: Int) -> Int {
        var end = index
        while isDigit(end) || (scalars[safe: end] == "_" && isDigit(end + 1) && end > index) { end += 1 }
        return end
    }

    /// An integer or a float (`1.5`, `2e3`) starting at `index`.
    private func number(at index: Int, _ position: SourcePosition) throws -> (TemplateToken.Kind, Int) {
        var end = digitRun(from: index)
        var isFloat = false
        if scalars[safe: end] == ".", isDigit(end + 1) {
            end = digitRun(from: end + 1)
            isFloat = true
        }
        if scalars[safe: end] == "e" || scalars[safe: end] == "E" {
            var exponentStart = end + 1
            if scalars[safe: exponentStart] == "+" || scalars[safe: exponentStart] == "-" { exponentStart += 1 }
            if isDigit(exponentStart) {
                end = digitRun(from: exponentStart)
                isFloat = true
            }
        }
        let text = string(index..<end).replacingOccurrences(of: "_", with: "")
        if isFloat, let value = Double(text) { return (.float(value), end) }
        guard let value = Int(text) else {
            throw ChatTemplateError(.syntax, "the number \(text) is too large", at: position)
        }
        return (.integer(value), end)
    }

    /// A quoted string starting at `index`, with Python's backslash escapes.
    private func stringLiteral(at index: Int, _ position: SourcePosition) throws -> (String, Int) {
        let quote = scalars[index]
        var result = String.UnicodeScalarView()
        var cursor = index + 1
        while cursor < scalars.count {
            let scalar = scalars[cursor]
            if scalar == quote { return (String(result), cursor + 1) }
            guard scalar == "\\", cursor + 1 < scalars.count else {
                result.append(scalar)
                cursor += 1
                continue
            }
            let escaped = scalars[cursor + 1]
            cursor += 2
            switch escaped {
            case "\n": break
            case "\\", "'", "\"": result.append(escaped)
            case "n": result.append("\n")
            case "t": result.append("\t")
            case "r": result.append("\r")
            case "a": result.append("\u{07}")
            case "b": result.append("\u{08}")
            case "f": result.append("\u{0C}")
            case "v": result.append("\u{0B}")
            case "0"..."7":
                var value = escaped.value - 0x30
                var digits = 1
                while digits < 3, cursor < scalars.count, ("0"..."7").contains(scalars[cursor]) {
                    value = value * 8 + scalars[cursor].value - 0x30
                    cursor += 1
                    digits += 1
                }
                result.append(Unicode.Scalar(value)!)
            case "x", "u", "U":
                let length = escaped == "x" ? 2 : escaped == "u" ? 4 : 8
                guard cursor + length <= scalars.count,
                      let value = UInt32(string(cursor..<(cursor + length)), radix: 16),
                      let decoded = Unicode.Scalar(value) else {
                    throw ChatTemplateError(.syntax, "invalid \\\(escaped) escape in a string", at: position)
                }
                result.append(decoded)
                cursor += length
            case "N":
                throw ChatTemplateError(.unsupported, "\\N{...} escapes are not supported", at: position)
            default:
                result.append("\\")
                result.append(escaped)
            }
        }
        throw ChatTemplateError(.syntax, "the string opened here is not closed", at: position)
    }
}

extension Array {
    /// The element at `index`, or nil when the index is out of range.
    subscript(safe index: Int) -> Element? {
        indices.contains(index) ? self[index] : nil
    }
}
