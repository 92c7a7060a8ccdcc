/// The `tojson` filter as transformers defines it for chat templates: Python's `json.dumps` with
/// `ensure_ascii=False` by default, so that non-ASCII text stays as it is, and the options
/// `indent`, `separators`, `sort_keys` and `ensure_ascii`.
enum TemplateJSON {
    struct Options {
        var indent: String?
        var itemSeparator: String
        var keySeparator: String
        var sortKeys: Bool
        var ensureASCII: Bool
    }

    static func encode(_ value: TemplateValue, _ arguments: EvaluatedArguments, _ context: BuiltinContext) throws -> String {
        var indent: String?
        switch arguments.value(0, "indent") {
        case nil, .none?: indent = nil
        case .string(let text)?: indent = text
        case let other?:
            guard let width = other.integer else { throw context.error("tojson's indent must be an integer or a string") }
            indent = String(repeating: " ", count: max(0, min(width, 64)))
        }
        var options = Options(
            indent: indent, itemSeparator: indent == nil ? ", " : ",", keySeparator: ": ",
            sortKeys: arguments.named["sort_keys"]?.isTruthy ?? false,
            ensureASCII: arguments.named["ensure_ascii"]?.isTruthy ?? false)
        if case .list(let separators)? = arguments.named["separators"] {
            guard separators.count == 2, case .string(let item) = separators[0], case .string(let key) = separators[1] else {
                throw context.error("tojson's separators must be two strings")
            }
            options.itemSeparator = item
            options.keySeparator = key
        }
        var output = ""
        try write(value, options: options, level: 0, into: &output, context)
        return output
    }

    private static func write(
        _ value: TemplateValue, options: Options, level: Int, into output: inout String, _ context: BuiltinContext
    ) throws {
        guard output.utf8.count <= context.sizeLimit else {
            throw ChatTemplateError(.limitExceeded, "tojson's output grew past \(context.sizeLimit) bytes", at: context.position)
        }
        switch value {
        case .none: output += "null"
        case .boolean(let flag): output += flag ? "true" : "false"
        case .integer(let integer): output += String(integer)
        case .float(let number):
            if number.isNaN { output += "NaN" } else if number.isInfinite { output += number < 0 ? "-Infinity" : "Infinity" } else {
                output += TemplateValue.pythonFloat(number)
            }
        case .string(let text): writeString(text, ensureASCII: options.ensureASCII, into: &output)
        case .list(let items):
            try writeContainer(
                open: "[", close: "]", count: items.count, options: options, level: level, into: &output
            ) { index, output in
                try write(items[index], options: options, level: level + 1, into: &output, context)
            }
        case .dictionary(let dictionary):
            var entries = dictionary.entries
            if options.sortKeys {
                entries.sort { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) { $0.value < $1.value } }
            }
            try writeContainer(
                open: "{", close: "}", count: entries.count, options: options, level: level, into: &output
            ) { index, output in
                writeString(entries[index].key, ensureASCII: options.ensureASCII, into: &output)
                output += options.keySeparator
                try write(entries[index].value, options: options, level: level + 1, into: &output, context)
            }
        case .undefined, .namespace, .loop:
            throw context.error("object of type \(value.typeName) is not JSON serializable")
        }
    }

    private static func writeContainer(
        open: String, close: String, count: Int, options: Options, level: Int, into output: inout String,
        item: (Int, inout String) throws -> Void
    ) throws {
        output += open
        guard count > 0 else {
            output += close
            return
        }
        for index in 0..<count {
            if index > 0 { output += options.itemSeparator }
            if let indent = options.indent {
                output += "\n" + String(repeating: indent, count: level + 1)
            }
            try item(index, &output)
        }
        if let indent = options.indent { output += "\n" + String(repeating: indent, count: level) }
        output += close
    }

    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped, and,
    /// with `ensureASCII`, everything past U+007E as `\uXXXX` (surrogate pairs above U+FFFF).
    static func writeString(_ text: String, ensureASCII: Bool, into output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 {
                    output += "\\u" + lowercaseHexadecimal(scalar.value, digits: 4)
                } else if ensureASCII && scalar.value > 0x7E {
                    if scalar.value > 0xFFFF {
                        let offset = scalar.value - 0x10000
                        output += "\\u" + lowercaseHexadecimal(0xD800 + (offset >> 10), digits: 4)
                        output += "\\u" + lowercaseHexadecimal(0xDC00 + (offset & 0x3FF), digits: 4)
                    } else {
                        output += "\\u" + lowercaseHexadecimal(scalar.value, digits: 4)
                    }
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}
