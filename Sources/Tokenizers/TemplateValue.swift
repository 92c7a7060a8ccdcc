/// A value inside a chat template, with Python's meaning for truth, equality, ordering and
/// printing (Jinja runs on Python, and templates are written against it).
indirect enum TemplateValue: Sendable {
    /// A name or key that does not exist: falsy, prints as nothing, iterates as empty; using it
    /// in arithmetic or looking inside it is an error. `name` is for the message.
    case undefined(name: String)
    case none
    case boolean(Bool)
    case integer(Int)
    case float(Double)
    case string(String)
    case list([TemplateValue])
    case dictionary(TemplateDictionary)
    /// The mutable object of `namespace(...)`.
    case namespace(TemplateNamespace)
    /// The `loop` variable of a `for`.
    case loop(LoopState)

    /// Python's truth value.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .boolean(let value): return value
        case .integer(let value): return value != 0
        case .float(let value): return value != 0
        case .string(let value): return !value.isEmpty
        case .list(let items): return !items.isEmpty
        case .dictionary(let dictionary): return !dictionary.isEmpty
        case .namespace, .loop: return true
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// The value's type as Python names it, for messages.
    var typeName: String {
        switch self {
        case .undefined: return "undefined"
        case .none: return "NoneType"
        case .boolean: return "bool"
        case .integer: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .dictionary: return "dict"
        case .namespace: return "Namespace"
        case .loop: return "LoopContext"
        }
    }

    /// The number as a double, for bools, integers and floats.
    var number: Double? {
        switch self {
        case .boolean(let value): return value ? 1 : 0
        case .integer(let value): return Double(value)
        case .float(let value): return value
        default: return nil
        }
    }

    /// The number as an integer, for bools and integers.
    var integer: Int? {
        switch self {
        case .boolean(let value): return value ? 1 : 0
        case .integer(let value): return value
        default: return nil
        }
    }

    // MARK: Printing

    /// Python's `str()`; undefined prints as nothing.
    var rendered: String {
        switch self {
        case .undefined: return ""
        case .string(let value): return value
        default: return representation
        }
    }

    /// The most UTF-8 bytes one `repr()` builds: the output limit of the rendering under way.
    /// Past it, a list or dictionary stops adding items, so that a value sharing one large part
    /// many times (`[x] * 100000`) cannot exhaust memory or time; every caller then refuses the
    /// text as past the limit.
    @TaskLocal static var representationLimit = Int.max

    /// Python's `repr()`, as lists and dictionaries print their items.
    var representation: String {
        var output = ""
        writeRepresentation(into: &output, limit: Self.representationLimit)
        return output
    }

    /// Appends `repr()` to `output`, stopping once `output` is past `limit` bytes.
    private func writeRepresentation(into output: inout String, limit: Int) {
        switch self {
        case .undefined: return
        case .none: output += "None"
        case .boolean(let value): output += value ? "True" : "False"
        case .integer(let value): output += String(value)
        case .float(let value): output += Self.pythonFloat(value)
        case .string(let value): output += Self.pythonStringLiteral(value)
        case .list(let items):
            output += "["
            for (index, item) in items.enumerated() {
                guard output.utf8.count <= limit else { return }
                if index > 0 { output += ", " }
                item.writeRepresentation(into: &output, limit: limit)
            }
            output += "]"
        case .dictionary(let dictionary):
            output += "{"
            for (index, entry) in dictionary.entries.enumerated() {
                guard output.utf8.count <= limit else { return }
                if index > 0 { output += ", " }
                output += Self.pythonStringLiteral(entry.key) + ": "
                entry.value.writeRepresentation(into: &output, limit: limit)
            }
            output += "}"
        case .namespace(let namespace):
            output += "<Namespace "
            TemplateValue.dictionary(namespace.attributes).writeRepresentation(into: &output, limit: limit)
            output += ">"
        case .loop: output += "<LoopContext>"
        }
    }

    /// Whether the value, walked as a tree (a part shared by several places counted at each),
    /// nests at most `depth` containers deep and holds at most `nodes` values. Namespaces and
    /// `loop` count as containers, so a namespace that holds itself fails. The walk stops as soon
    /// as either bound is passed, so it costs at most `nodes` steps.
    func isBounded(depth: Int, nodes: inout Int) -> Bool {
        nodes -= 1
        guard nodes >= 0 else { return false }
        func children(_ values: some Sequence<TemplateValue>) -> Bool {
            guard depth > 0 else { return false }
            for value in values where !value.isBounded(depth: depth - 1, nodes: &nodes) { return false }
            return true
        }
        switch self {
        case .undefined, .none, .boolean, .integer, .float, .string: return true
        case .list(let items): return children(items)
        case .dictionary(let dictionary): return children(dictionary.entries.lazy.map(\.value))
        case .namespace(let namespace): return children(namespace.attributes.entries.lazy.map(\.value))
        case .loop(let state): return children([state.previousItem, state.nextItem].compactMap { $0 })
        }
    }

    /// `repr(float)`: integral values keep a `.0`.
    static func pythonFloat(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == value.rounded() && abs(value) < 1e16 { return String(Int(value)) + ".0" }
        return String(value)
    }

    /// `repr(str)`: single quotes unless the text holds a single quote and no double quote.
    static func pythonStringLiteral(_ text: String) -> String {
        let quote: Unicode.Scalar = text.unicodeScalars.contains("'") && !text.unicodeScalars.contains("\"") ? "\"" : "'"
        var result = String.UnicodeScalarView()
        result.append(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": result.append(contentsOf: "\\n".unicodeScalars)
            case "\r": result.append(contentsOf: "\\r".unicodeScalars)
            case "\t": result.append(contentsOf: "\\t".unicodeScalars)
            case quote: result.append("\\"); result.append(quote)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result.append(contentsOf: "\\x\(lowercaseHexadecimal(scalar.value, digits: 2))".unicodeScalars)
                } else {
                    result.append(scalar)
                }
            }
        }
        result.append(quote)
        return String(result)
    }

    // MARK: Comparing

    /// Python's `==`. Strings compare scalar for scalar (not by canonical equivalence); numbers
    /// compare by value across bool, int and float; undefined equals only undefined.
    func isEqual(to other: TemplateValue) -> Bool {
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let left), .string(let right)): return left.unicodeScalars.elementsEqual(right.unicodeScalars)
        case (.list(let left), .list(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { $0.isEqual(to: $1) }
        case (.dictionary(let left), .dictionary(let right)):
            return left.count == right.count && left.entries.allSatisfy { entry in
                right[entry.key].map { $0.isEqual(to: entry.value) } ?? false
            }
        case (.namespace(let left), .namespace(let right)): return left === right
        default:
            if let left = number, let right = other.number { return left == right }
            return false
        }
    }

    /// Python's `<` for numbers, strings (by scalar values) and lists; nil when the types do not
    /// order.
    func isLess(than other: TemplateValue) -> Bool? {
        switch (self, other) {
        case (.string(let left), .string(let right)):
            return left.unicodeScalars.lexicographicallyPrecedes(right.unicodeScalars) { $0.value < $1.value }
        case (.list(let left), .list(let right)):
            for (leftItem, rightItem) in zip(left, right) where !leftItem.isEqual(to: rightItem) {
                return leftItem.isLess(than: rightItem)
            }
            return left.count < right.count
        default:
            if let integerLeft = integer, let integerRight = other.integer { return integerLeft < integerRight }
            if let left = number, let right = other.number { return left < right }
            return nil
        }
    }
}

/// Lowercase hexadecimal, zero-padded to `digits`.
func lowercaseHexadecimal(_ value: UInt32, digits: Int) -> String {
    let text = String(value, radix: 16, uppercase: false)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}

/// A dictionary with string keys that keeps insertion order, as Python's does.
struct TemplateDictionary: Sendable {
    private(set) var entries: [(key: String, value: TemplateValue)] = []

    init(_ entries: [(key: String, value: TemplateValue)] = []) {
        for entry in entries { self[entry.key] = entry.value }
    }

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }
    var keys: [String] { entries.map(\.key) }

    /// Keys compare scalar for scalar. Setting an existing key keeps its place.
    subscript(key: String) -> TemplateValue? {
        get { entries.first { $0.key.unicodeScalars.elementsEqual(key.unicodeScalars) }?.value }
        set {
            let index = entries.firstIndex { $0.key.unicodeScalars.elementsEqual(key.unicodeScalars) }
            switch (index, newValue) {
            case (let index?, let value?): entries[index].value = value
            case (let index?, nil): entries.remove(at: index)
            case (nil, let value?): entries.append((key, value))
            case (nil, nil): break
            }
        }
    }
}

/// The object `namespace(...)` makes: attributes that `{% set ns.name = ... %}` can change from
/// inside a loop. Only the rendering thread that created it touches it.
final class TemplateNamespace: @unchecked Sendable {
    var attributes: TemplateDictionary

    init(_ attributes: TemplateDictionary) {
        self.attributes = attributes
    }
}

/// What `loop.*` reports inside a `for`.
struct LoopState: Sendable {
    var index0: Int
    var length: Int
    var previousItem: TemplateValue?
    var nextItem: TemplateValue?

    /// `loop.<name>`, or nil for a name `loop` does not have.
    func attribute(_ name: String) -> TemplateValue? {
        switch name {
        case "index": return .integer(index0 + 1)
        case "index0": return .integer(index0)
        case "revindex": return .integer(length - index0)
        case "revindex0": return .integer(length - index0 - 1)
        case "first": return .boolean(index0 == 0)
        case "last": return .boolean(index0 == length - 1)
        case "length": return .integer(length)
        case "depth": return .integer(1)
        case "depth0": return .integer(0)
        case "previtem": return previousItem ?? .undefined(name: "loop.previtem")
        case "nextitem": return nextItem ?? .undefined(name: "loop.nextitem")
        default: return nil
        }
    }
}
