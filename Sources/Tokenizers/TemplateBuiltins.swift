/// Arguments after evaluation.
struct EvaluatedArguments {
    var positional: [TemplateValue] = []
    var named: [String: TemplateValue] = [:]

    /// The argument at `index`, or the one called `name`.
    func value(_ index: Int, _ name: String) -> TemplateValue? {
        index < positional.count ? positional[index] : named[name]
    }
}

/// Where a builtin runs: the place in the source for errors, and the size limit for the strings
/// it makes.
struct BuiltinContext {
    var position: SourcePosition
    var sizeLimit: Int

    func error(_ message: String) -> ChatTemplateError {
        ChatTemplateError(.evaluation, message, at: position)
    }

    /// `text`, if it is within the size limit.
    func checked(_ text: String) throws -> TemplateValue {
        guard text.utf8.count <= sizeLimit else {
            throw ChatTemplateError(.limitExceeded, "a string grew past \(sizeLimit) bytes", at: position)
        }
        return .string(text)
    }

    func string(_ value: TemplateValue?, _ what: String) throws -> String {
        guard case .string(let text)? = value else {
            throw error("\(what) must be a string, not \(value?.typeName ?? "missing")")
        }
        return text
    }

    func integer(_ value: TemplateValue?, _ what: String) throws -> Int {
        guard let value, let integer = value.integer else {
            throw error("\(what) must be an integer, not \(value?.typeName ?? "missing")")
        }
        return integer
    }
}

/// The filters, tests and methods chat templates may use, with Jinja's and Python's meaning.
enum TemplateBuiltins {
    static let filterNames: Set<String> = [
        "trim", "length", "count", "upper", "lower", "title", "capitalize", "tojson", "default", "d", "first",
        "last", "join", "list", "items", "string", "int", "float", "abs", "replace", "reverse", "safe",
        "escape", "e", "select", "reject", "selectattr", "rejectattr", "map", "unique", "indent", "round",
        "sum", "max", "min", "dictsort", "sort",
    ]

    static let testNames: Set<String> = [
        "defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable",
        "sequence", "boolean", "true", "false", "odd", "even", "divisibleby", "equalto", "eq", "ne", "lt",
        "le", "gt", "ge", "in", "lower", "upper", "sameas", "callable",
    ]

    // MARK: Filters

    static func filter(
        _ name: String, _ value: TemplateValue, _ arguments: EvaluatedArguments, _ context: BuiltinContext
    ) throws -> TemplateValue {
        switch name {
        case "trim":
            let characters = try arguments.value(0, "chars").map { try context.string($0, "trim's characters") }
            return .string(PythonString.strip(value.rendered, characters: characters, leading: true, trailing: true))
        case "length", "count":
            return .integer(try length(of: value, context))
        case "upper":
            return .string(value.rendered.uppercased())
        case "lower":
            return .string(value.rendered.lowercased())
        case "title":
            return .string(PythonString.jinjaTitle(value.rendered))
        case "capitalize":
            return .string(PythonString.capitalize(value.rendered))
        case "tojson":
            return try context.checked(try TemplateJSON.encode(value, arguments, context))
        case "default", "d":
            let fallback = arguments.value(0, "default_value") ?? .string("")
            let boolean = arguments.value(1, "boolean")?.isTruthy ?? false
            return value.isUndefined || (boolean && !value.isTruthy) ? fallback : value
        case "first", "last":
            let items = try sequence(value, context)
            return (name == "first" ? items.first : items.last) ?? .undefined(name: "\(name) item")
        case "join":
            let separator = try arguments.value(0, "d").map { try context.string($0, "join's separator") } ?? ""
            var items = try sequence(value, context)
            if let attribute = arguments.named["attribute"] {
                items = try items.map { try item($0, attribute, context) }
            }
            let parts = items.map(\.rendered)
            // The parts may share one large string many times: count before joining.
            var byteCount = 0
            for (index, part) in parts.enumerated() {
                byteCount += part.utf8.count + (index > 0 ? separator.utf8.count : 0)
                guard byteCount <= context.sizeLimit else {
                    throw ChatTemplateError(.limitExceeded, "a string grew past \(context.sizeLimit) bytes", at: context.position)
                }
            }
            return .string(parts.joined(separator: separator))
        case "list":
            return .list(try sequence(value, context))
        case "items":
            if value.isUndefined { return .list([]) }
            guard case .dictionary(let dictionary) = value else {
                throw context.error("items needs a dict, not \(value.typeName)")
            }
            return .list(dictionary.entries.map { .list([.string($0.key), $0.value]) })
        case "string":
            return .string(value.rendered)
        case "int":
            return integer(value) ?? arguments.value(0, "default") ?? .integer(0)
        case "float":
            if let number = value.number { return .float(number) }
            if case .string(let text) = value, let number = Double(PythonString.strip(text, characters: nil, leading: true, trailing: true)) {
                return .float(number)
            }
            return arguments.value(0, "default") ?? .float(0)
        case "abs":
            switch value {
            case .integer(let integer) where integer != .min: return .integer(abs(integer))
            case .boolean(let flag): return .integer(flag ? 1 : 0)
            case .float(let number): return .float(abs(number))
            default: throw context.error("abs needs a number, not \(value.typeName)")
            }
        case "replace":
            let old = try context.string(arguments.value(0, "old"), "replace's first argument")
            let new = try context.string(arguments.value(1, "new"), "replace's second argument")
            let count = try arguments.value(2, "count").map { try context.integer($0, "replace's count") }
            return try context.checked(PythonString.replace(value.rendered, old, new, count: count ?? -1))
        case "reverse":
            if case .string(let text) = value { return .string(String(String.UnicodeScalarView(text.unicodeScalars.reversed()))) }
            return .list(try sequence(value, context).reversed())
        case "safe":
            return value
        case "escape", "e":
            return try context.checked(PythonString.escapeHTML(value.rendered))
        case "select", "reject":
            let items = try sequence(value, context)
            guard let testValue = arguments.positional.first else {
                return .list(items.filter { $0.isTruthy == (name == "select") })
            }
            let testName = try context.string(testValue, "\(name)'s test")
            let testArguments = Array(arguments.positional.dropFirst())
            return .list(try items.filter { try test(testName, $0, testArguments, context) == (name == "select") })
        case "selectattr", "rejectattr":
            let items = try sequence(value, context)
            guard let attribute = arguments.positional.first else {
                throw context.error("\(name) needs an attribute name")
            }
            let wanted = name == "selectattr"
            if arguments.positional.count < 2 {
                return .list(try items.filter { try item($0, attribute, context).isTruthy == wanted })
            }
            let testName = try context.string(arguments.positional[1], "\(name)'s test")
            let testArguments = Array(arguments.positional.dropFirst(2))
            return .list(try items.filter { try test(testName, try item($0, attribute, context), testArguments, context) == wanted })
        case "map":
            let items = try sequence(value, context)
            if let attribute = arguments.named["attribute"] {
                let fallback = arguments.named["default"]
                return .list(try items.map { element in
                    let found = try item(element, attribute, context)
                    return found.isUndefined ? (fallback ?? found) : found
                })
            }
            guard let filterValue = arguments.positional.first else { throw context.error("map needs a filter or an attribute") }
            let filterName = try context.string(filterValue, "map's filter")
            guard filterNames.contains(filterName), filterName != "map" else {
                throw ChatTemplateError(.unsupported, "unknown filter '\(filterName)'", at: context.position)
            }
            let rest = EvaluatedArguments(positional: Array(arguments.positional.dropFirst()), named: [:])
            return .list(try items.map { try filter(filterName, $0, rest, context) })
        case "unique":
            var kept: [TemplateValue] = []
            for element in try sequence(value, context) where !kept.contains(where: { $0.isEqual(to: element) }) {
                kept.append(element)
            }
            return .list(kept)
        case "indent":
            let width = try arguments.value(0, "width").map { try context.integer($0, "indent's width") } ?? 4
            let indentFirst = arguments.value(1, "first")?.isTruthy ?? false
            let indentBlank = arguments.value(2, "blank")?.isTruthy ?? false
            let text = value.rendered
            // Each line gets the padding: refuse before building what `checked` would refuse after.
            let lineCount = text.utf8.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            let padding = lineCount.multipliedReportingOverflow(by: max(0, width))
            guard !padding.overflow, padding.partialValue <= context.sizeLimit else {
                throw ChatTemplateError(.limitExceeded, "a string grew past \(context.sizeLimit) bytes", at: context.position)
            }
            return try context.checked(PythonString.indent(text, width: width, first: indentFirst, blank: indentBlank))
        case "round":
            guard let number = value.number else { throw context.error("round needs a number, not \(value.typeName)") }
            let precision = try arguments.value(0, "precision").map { try context.integer($0, "round's precision") } ?? 0
            let method = try arguments.value(1, "method").map { try context.string($0, "round's method") } ?? "common"
            let scale = pow10(precision)
            let scaled = number * scale
            let rounded: Double
            switch method {
            case "common": rounded = scaled.rounded(.toNearestOrAwayFromZero)
            case "ceil": rounded = scaled.rounded(.up)
            case "floor": rounded = scaled.rounded(.down)
            default: throw context.error("round's method must be common, ceil or floor")
            }
            return .float(rounded / scale)
        case "sum":
            var total = arguments.value(1, "start") ?? .integer(0)
            for var element in try sequence(value, context) {
                if let attribute = arguments.value(0, "attribute") { element = try item(element, attribute, context) }
                total = try TemplateArithmetic.apply(.add, total, element, context)
            }
            return total
        case "max", "min":
            let items = try sequence(value, context)
            guard var best = items.first else { return .undefined(name: "\(name) of an empty sequence") }
            for element in items.dropFirst() {
                guard let less = (name == "max" ? best.isLess(than: element) : element.isLess(than: best)) else {
                    throw context.error("\(name) cannot order \(best.typeName) and \(element.typeName)")
                }
                if less { best = element }
            }
            return best
        case "dictsort":
            guard case .dictionary(let dictionary) = value else { throw context.error("dictsort needs a dict, not \(value.typeName)") }
            let sorted = dictionary.entries.sorted {
                $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) { $0.value < $1.value }
            }
            return .list(sorted.map { .list([.string($0.key), $0.value]) })
        case "sort":
            let reverse = arguments.value(0, "reverse")?.isTruthy ?? false
            let attribute = arguments.named["attribute"]
            let items = try sequence(value, context)
            let keys = try items.map { element in
                guard let attribute else { return element }
                return try item(element, attribute, context)
            }
            var order = Array(items.indices)
            var failure: ChatTemplateError?
            order.sort { left, right in
                guard let less = keys[left].isLess(than: keys[right]) else {
                    failure = context.error("sort cannot order \(keys[left].typeName) and \(keys[right].typeName)")
                    return false
                }
                return less
            }
            if let failure { throw failure }
            if reverse { order.reverse() }
            return .list(order.map { items[$0] })
        default:
            throw ChatTemplateError(.unsupported, "unknown filter '\(name)'", at: context.position)
        }
    }

    private static func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<min(exponent.magnitude, 308) { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }

    private static func integer(_ value: TemplateValue) -> TemplateValue? {
        switch value {
        case .integer, .boolean: return value.integer.map { .integer($0) }
        case .float(let number) where number.isFinite && abs(number) < 9e18: return .integer(Int(number))
        case .string(let text):
            let trimmed = PythonString.strip(text, characters: nil, leading: true, trailing: true)
            if let integer = Int(trimmed.replacingOccurrences(of: "_", with: "")) { return .integer(integer) }
            if let number = Double(trimmed), number.isFinite, abs(number) < 9e18 { return .integer(Int(number)) }
            return nil
        default: return nil
        }
    }

    /// `len(value)`; undefined has length 0.
    static func length(of value: TemplateValue, _ context: BuiltinContext) throws -> Int {
        switch value {
        case .undefined: return 0
        case .string(let text): return text.unicodeScalars.count
        case .list(let items): return items.count
        case .dictionary(let dictionary): return dictionary.count
        default: throw context.error("object of type '\(value.typeName)' has no len()")
        }
    }

    /// The items of an iterable: a list's items, a string's characters, a dict's keys;
    /// undefined is empty.
    static func sequence(_ value: TemplateValue, _ context: BuiltinContext) throws -> [TemplateValue] {
        switch value {
        case .undefined: return []
        case .list(let items): return items
        case .string(let text): return text.unicodeScalars.map { .string(String($0)) }
        case .dictionary(let dictionary): return dictionary.keys.map { .string($0) }
        default: throw context.error("'\(value.typeName)' object is not iterable")
        }
    }

    /// `value[key]` as Jinja looks it up for `attribute=` arguments: a dict's entry, a list's
    /// item (also for dotted names, `a.b`).
    static func item(_ value: TemplateValue, _ key: TemplateValue, _ context: BuiltinContext) throws -> TemplateValue {
        if case .string(let path) = key, path.contains(".") {
            var current = value
            for part in path.split(separator: ".") {
                current = try item(current, Int(part).map { .integer($0) } ?? .string(String(part)), context)
            }
            return current
        }
        switch (value, key) {
        case (.dictionary(let dictionary), .string(let name)):
            return dictionary[name] ?? .undefined(name: name)
        case (.namespace(let namespace), .string(let name)):
            return namespace.attributes[name] ?? .undefined(name: name)
        case (.list(let items), _):
            guard let index = key.integer else { return .undefined(name: key.rendered) }
            let resolved = index < 0 ? index + items.count : index
            return items.indices.contains(resolved) ? items[resolved] : .undefined(name: "item \(index)")
        case (.undefined(let name), _):
            throw context.error("'\(name)' is undefined")
        default:
            return .undefined(name: key.rendered)
        }
    }

    // MARK: Tests

    static func test(
        _ name: String, _ value: TemplateValue, _ arguments: [TemplateValue], _ context: BuiltinContext
    ) throws -> Bool {
        func argument() throws -> TemplateValue {
            guard let first = arguments.first else { throw context.error("the test '\(name)' needs an argument") }
            return first
        }
        func order(_ left: TemplateValue, _ right: TemplateValue) throws -> Bool {
            guard let less = left.isLess(than: right) else {
                throw context.error("cannot order \(left.typeName) and \(right.typeName)")
            }
            return less
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": if case .none = value { return true } else { return false }
        case "string": if case .string = value { return true } else { return false }
        case "number":
            switch value {
            case .integer, .float, .boolean: return true
            default: return false
            }
        case "integer": if case .integer = value { return true } else { return false }
        case "float": if case .float = value { return true } else { return false }
        case "mapping": if case .dictionary = value { return true } else { return false }
        case "iterable":
            switch value {
            case .undefined, .string, .list, .dictionary: return true
            default: return false
            }
        case "sequence":
            switch value {
            case .string, .list, .dictionary: return true
            default: return false
            }
        case "boolean": if case .boolean = value { return true } else { return false }
        case "true": if case .boolean(true) = value { return true } else { return false }
        case "false": if case .boolean(false) = value { return true } else { return false }
        case "odd", "even":
            guard case .integer(let integer) = value else { throw context.error("the test '\(name)' needs an integer") }
            return (integer % 2 != 0) == (name == "odd")
        case "divisibleby":
            guard let integer = value.integer, let divisor = try argument().integer, divisor != 0 else {
                throw context.error("divisibleby needs integers and a divisor other than 0")
            }
            return integer % divisor == 0
        case "equalto", "eq": return value.isEqual(to: try argument())
        case "ne": return !value.isEqual(to: try argument())
        case "lt": return try order(value, try argument())
        case "gt": return try order(try argument(), value)
        case "le": return !(try order(try argument(), value))
        case "ge": return !(try order(value, try argument()))
        case "in": return try TemplateArithmetic.contains(try argument(), value, context)
        case "lower":
            guard case .string(let text) = value else { return false }
            return text == text.lowercased()
        case "upper":
            guard case .string(let text) = value else { return false }
            return text == text.uppercased()
        case "sameas":
            let other = try argument()
            switch (value, other) {
            case (.namespace(let left), .namespace(let right)): return left === right
            case (.none, .none), (.undefined, .undefined): return true
            case (.boolean(let left), .boolean(let right)): return left == right
            default: return false
            }
        case "callable": return false
        default:
            throw ChatTemplateError(.unsupported, "unknown test '\(name)'", at: context.position)
        }
    }

    // MARK: Methods

    /// `value.name(arguments)` for the methods of Python's `str` and `dict` that do not change
    /// the value, and `loop.cycle`.
    static func method(
        _ name: String, on value: TemplateValue, _ arguments: EvaluatedArguments, _ context: BuiltinContext
    ) throws -> TemplateValue {
        switch value {
        case .string(let text):
            return try stringMethod(name, text, arguments, context)
        case .dictionary(let dictionary):
            switch name {
            case "items": return .list(dictionary.entries.map { .list([.string($0.key), $0.value]) })
            case "keys": return .list(dictionary.keys.map { .string($0) })
            case "values": return .list(dictionary.entries.map(\.value))
            case "get":
                let key = try context.string(arguments.value(0, "key"), "get's key")
                return dictionary[key] ?? arguments.value(1, "default") ?? .none
            default: break
            }
        case .loop(let state) where name == "cycle":
            guard !arguments.positional.isEmpty else { throw context.error("loop.cycle needs at least one value") }
            return arguments.positional[state.index0 % arguments.positional.count]
        case .undefined(let undefinedName):
            throw context.error("'\(undefinedName)' is undefined")
        default:
            break
        }
        throw ChatTemplateError(
            .unsupported, "'\(value.typeName)' has no method '\(name)' here (templates cannot change values)",
            at: context.position)
    }

    private static func stringMethod(
        _ name: String, _ text: String, _ arguments: EvaluatedArguments, _ context: BuiltinContext
    ) throws -> TemplateValue {
        func characters() throws -> String? {
            guard let value = arguments.value(0, "chars"), !(value.isEqual(to: .none)) else { return nil }
            return try context.string(value, "\(name)'s characters")
        }
        switch name {
        case "strip": return .string(PythonString.strip(text, characters: try characters(), leading: true, trailing: true))
        case "lstrip": return .string(PythonString.strip(text, characters: try characters(), leading: true, trailing: false))
        case "rstrip": return .string(PythonString.strip(text, characters: try characters(), leading: false, trailing: true))
        case "upper": return .string(text.uppercased())
        case "lower": return .string(text.lowercased())
        case "title": return .string(PythonString.title(text))
        case "capitalize": return .string(PythonString.capitalize(text))
        case "startswith", "endswith":
            guard let affixes = arguments.value(0, "prefix") else { throw context.error("\(name) needs an argument") }
            let candidates: [TemplateValue]
            if case .list(let items) = affixes { candidates = items } else { candidates = [affixes] }
            for candidate in candidates {
                let affix = try context.string(candidate, "\(name)'s argument")
                let matches = name == "startswith"
                    ? text.unicodeScalars.starts(with: affix.unicodeScalars)
                    : text.unicodeScalars.reversed().starts(with: affix.unicodeScalars.reversed())
                if matches { return .boolean(true) }
            }
            return .boolean(false)
        case "split":
            let separatorValue = arguments.value(0, "sep")
            let separator = separatorValue.flatMap { $0.isEqual(to: .none) ? nil : $0 }
            let maximum = try arguments.value(1, "maxsplit").map { try context.integer($0, "split's maxsplit") } ?? -1
            if let separator {
                let text2 = try context.string(separator, "split's separator")
                guard !text2.isEmpty else { throw context.error("empty separator") }
                return .list(PythonString.split(text, separator: text2, maximum: maximum).map { .string($0) })
            }
            return .list(PythonString.splitWhitespace(text, maximum: maximum).map { .string($0) })
        case "replace":
            let old = try context.string(arguments.value(0, "old"), "replace's first argument")
            let new = try context.string(arguments.value(1, "new"), "replace's second argument")
            let count = try arguments.value(2, "count").map { try context.integer($0, "replace's count") } ?? -1
            return try context.checked(PythonString.replace(text, old, new, count: count))
        case "find":
            let needle = try context.string(arguments.value(0, "sub"), "find's argument")
            return .integer(PythonString.find(needle, in: text) ?? -1)
        case "count":
            let needle = try context.string(arguments.value(0, "sub"), "count's argument")
            return .integer(PythonString.count(needle, in: text))
        case "join":
            guard let items = arguments.value(0, "iterable") else { throw context.error("join needs an argument") }
            let strings = try sequence(items, context).map { try context.string($0, "each item joined") }
            return try context.checked(strings.joined(separator: text))
        default:
            throw ChatTemplateError(.unsupported, "'str' has no method '\(name)' here", at: context.position)
        }
    }
}
