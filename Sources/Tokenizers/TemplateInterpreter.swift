/// Renders a parsed chat template. Data only: the template sees the variables it is given and
/// nothing else (no files, processes, clock or environment), its output is bounded, and so are
/// the iterations of its loops.
struct TemplateInterpreter {
    private let limits: ChatTemplate.Limits
    /// Innermost scope last: the variables given, then the template's own, then one per loop
    /// iteration.
    private var scopes: [[String: TemplateValue]]
    private var output = ""
    private var outputByteCount = 0
    private var iterations = 0

    /// What ends the rendering of a list of nodes early.
    private enum Flow { case normal, breakLoop, continueLoop }

    init(variables: [String: TemplateValue], limits: ChatTemplate.Limits) {
        self.limits = limits
        self.scopes = [variables, [:]]
    }

    mutating func render(_ nodes: [TemplateNode]) throws -> String {
        _ = try renderNodes(nodes)
        return output
    }

    private func context(_ position: SourcePosition) -> BuiltinContext {
        BuiltinContext(position: position, sizeLimit: limits.maximumOutputBytes)
    }

    private mutating func emit(_ text: String, at position: SourcePosition) throws {
        outputByteCount += text.utf8.count
        guard outputByteCount <= limits.maximumOutputBytes else {
            throw ChatTemplateError(
                .limitExceeded, "the output grew past \(limits.maximumOutputBytes) bytes", at: position)
        }
        output += text
    }

    // MARK: Statements

    private mutating func renderNodes(_ nodes: [TemplateNode]) throws -> Flow {
        for node in nodes {
            let flow = try renderNode(node)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private mutating func renderNode(_ node: TemplateNode) throws -> Flow {
        switch node {
        case .text(let text, let position):
            try emit(text, at: position)
        case .output(let expression, let position):
            try emit(try evaluate(expression).rendered, at: position)
        case .conditional(let branches, let otherwise):
            for branch in branches where try evaluate(branch.condition).isTruthy {
                return try renderNodes(branch.body)
            }
            return try renderNodes(otherwise)
        case .loop(let loop):
            try renderLoop(loop)
        case .assignment(let target, let expression, let position):
            try assign(try evaluate(expression), to: target, at: position)
        case .blockAssignment(let name, let body):
            let saved = output
            output = ""
            _ = try renderNodes(body)
            scopes[scopes.count - 1][name] = .string(output)
            output = saved
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case .sequence(let nodes):
            return try renderNodes(nodes)
        }
        return .normal
    }

    private mutating func renderLoop(_ loop: TemplateLoop) throws {
        let iterable = try evaluate(loop.iterable)
        var items = try TemplateBuiltins.sequence(iterable, context(loop.iterable.position))
        if let filter = loop.filter {
            var kept: [TemplateValue] = []
            for item in items {
                scopes.append(try bind(item, to: loop.targets, at: loop.position))
                let keep = try evaluate(filter).isTruthy
                scopes.removeLast()
                if keep { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            _ = try renderNodes(loop.otherwise)
            return
        }
        for (index, item) in items.enumerated() {
            iterations += 1
            guard iterations <= limits.maximumLoopIterations else {
                throw ChatTemplateError(
                    .limitExceeded, "loops ran more than \(limits.maximumLoopIterations) iterations", at: loop.position)
            }
            var scope = try bind(item, to: loop.targets, at: loop.position)
            scope["loop"] = .loop(LoopState(
                index0: index, length: items.count, previousItem: index > 0 ? items[index - 1] : nil,
                nextItem: index + 1 < items.count ? items[index + 1] : nil))
            scopes.append(scope)
            let flow = try renderNodes(loop.body)
            scopes.removeLast()
            if flow == .breakLoop { break }
        }
    }

    /// A scope holding `value` under `names`, unpacked when there are several.
    private func bind(_ value: TemplateValue, to names: [String], at position: SourcePosition) throws -> [String: TemplateValue] {
        guard names.count > 1 else { return [names[0]: value] }
        guard case .list(let items) = value, items.count == names.count else {
            throw ChatTemplateError(
                .evaluation, "cannot unpack \(value.typeName) into \(names.count) names", at: position)
        }
        return Dictionary(uniqueKeysWithValues: zip(names, items).map { ($0, $1) })
    }

    private mutating func assign(_ value: TemplateValue, to target: AssignmentTarget, at position: SourcePosition) throws {
        switch target {
        case .names(let names):
            try checkStorable(value, at: position)
            for (name, item) in try bind(value, to: names, at: position) {
                scopes[scopes.count - 1][name] = item
            }
        case .attribute(let object, let name):
            guard case .namespace(let namespace) = lookUp(object) else {
                throw ChatTemplateError(
                    .evaluation, "cannot set '\(object).\(name)': only namespace() objects take attributes", at: position)
            }
            let previous = namespace.attributes[name]
            namespace.attributes[name] = value
            // Checked after the assignment, which is what can make a namespace hold itself.
            do {
                try checkStorable(.namespace(namespace), at: position)
            } catch {
                namespace.attributes[name] = previous
                throw error
            }
        }
    }

    /// Refuses to keep a value that nests deeper than the nesting limit or holds more values than
    /// loops may run iterations (counting a shared part at each use). Only stored values can
    /// grow from one loop iteration to the next, so this bounds every value: without it, a loop of
    /// `{% set ns.x = [ns.x] %}` builds a value too deep to print, compare or even free without
    /// exhausting the stack, and `{% set ns.x = [ns.x, ns.x] %}` one of billions of items.
    private func checkStorable(_ value: TemplateValue, at position: SourcePosition) throws {
        var nodes = limits.maximumLoopIterations
        guard value.isBounded(depth: limits.maximumNestingDepth, nodes: &nodes) else {
            throw ChatTemplateError(
                .limitExceeded,
                "a value to store nests deeper than \(limits.maximumNestingDepth) levels, holds itself, "
                    + "or holds more than \(limits.maximumLoopIterations) values",
                at: position)
        }
    }

    private func lookUp(_ name: String) -> TemplateValue {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        return .undefined(name: name)
    }

    // MARK: Expressions

    private mutating func evaluate(_ expression: TemplateExpression) throws -> TemplateValue {
        let position = expression.position
        switch expression.kind {
        case .literal(let value):
            return value
        case .variable(let name):
            return lookUp(name)
        case .list(let items):
            var values: [TemplateValue] = []
            for item in items { values.append(try evaluate(item)) }
            return .list(values)
        case .dictionary(let entries):
            var dictionary = TemplateDictionary()
            for entry in entries {
                guard case .string(let key) = try evaluate(entry.key) else {
                    throw ChatTemplateError(.unsupported, "dictionary keys must be strings", at: entry.key.position)
                }
                dictionary[key] = try evaluate(entry.value)
            }
            return .dictionary(dictionary)
        case .attribute(let object, let name):
            return try attribute(name, of: try evaluate(object), at: position)
        case .item(let object, let key):
            let container = try evaluate(object)
            let keyValue = try evaluate(key)
            if case .loop(let state) = container, case .string(let name) = keyValue {
                return state.attribute(name) ?? .undefined(name: "loop.\(name)")
            }
            if case .string(let text) = container, let index = keyValue.integer {
                let scalars = Array(text.unicodeScalars)
                let resolved = index < 0 ? index + scalars.count : index
                return scalars.indices.contains(resolved) ? .string(String(scalars[resolved])) : .undefined(name: "item \(index)")
            }
            return try TemplateBuiltins.item(container, keyValue, context(position))
        case .slice(let object, let start, let stop, let step):
            return try slice(
                try evaluate(object), start: try start.map { try evaluate($0) }, stop: try stop.map { try evaluate($0) },
                step: try step.map { try evaluate($0) }, at: position)
        case .not(let operand):
            return .boolean(!(try evaluate(operand).isTruthy))
        case .negate(let operand):
            let value = try evaluate(operand)
            if let integer = value.integer, integer != .min { return .integer(-integer) }
            if case .float(let number) = value { return .float(-number) }
            throw ChatTemplateError(.evaluation, "bad operand type for unary -: '\(value.typeName)'", at: position)
        case .unaryPlus(let operand):
            let value = try evaluate(operand)
            if let integer = value.integer { return .integer(integer) }
            if case .float = value { return value }
            throw ChatTemplateError(.evaluation, "bad operand type for unary +: '\(value.typeName)'", at: position)
        case .arithmetic(let operation, let left, let right):
            return try TemplateArithmetic.apply(operation, try evaluate(left), try evaluate(right), context(position))
        case .and(let left, let right):
            let first = try evaluate(left)
            return first.isTruthy ? try evaluate(right) : first
        case .or(let left, let right):
            let first = try evaluate(left)
            return first.isTruthy ? first : try evaluate(right)
        case .comparison(let first, let rest):
            var left = try evaluate(first)
            for (comparison, operand) in rest {
                let right = try evaluate(operand)
                guard try TemplateArithmetic.compare(comparison, left, right, context(position)) else { return .boolean(false) }
                left = right
            }
            return .boolean(true)
        case .conditional(let value, let condition, let otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(value) }
            return try otherwise.map { try evaluate($0) } ?? .undefined(name: "the else branch")
        case .filter(let operand, let name, let arguments):
            return try TemplateBuiltins.filter(name, try evaluate(operand), try evaluate(arguments), context(position))
        case .test(let operand, let name, let arguments, let negated):
            let result = try TemplateBuiltins.test(
                name, try evaluate(operand), try evaluate(arguments).positional, context(position))
            return .boolean(result != negated)
        case .function(let name, let arguments):
            return try callFunction(name, try evaluate(arguments), at: position)
        case .method(let object, let name, let arguments):
            return try TemplateBuiltins.method(name, on: try evaluate(object), try evaluate(arguments), context(position))
        }
    }

    private mutating func evaluate(_ arguments: TemplateArguments) throws -> EvaluatedArguments {
        var evaluated = EvaluatedArguments()
        for argument in arguments.positional { evaluated.positional.append(try evaluate(argument)) }
        for argument in arguments.named { evaluated.named[argument.name] = try evaluate(argument.value) }
        return evaluated
    }

    /// `object.name`: a dict's entry, a namespace's attribute, `loop`'s counters; undefined for
    /// anything else, an error on an undefined object.
    private func attribute(_ name: String, of object: TemplateValue, at position: SourcePosition) throws -> TemplateValue {
        switch object {
        case .undefined(let objectName):
            throw ChatTemplateError(.evaluation, "'\(objectName)' is undefined (looking up '.\(name)')", at: position)
        case .dictionary(let dictionary):
            return dictionary[name] ?? .undefined(name: name)
        case .namespace(let namespace):
            return namespace.attributes[name] ?? .undefined(name: name)
        case .loop(let state):
            return state.attribute(name) ?? .undefined(name: "loop.\(name)")
        default:
            return .undefined(name: name)
        }
    }

    /// Python's slicing of lists and strings.
    private func slice(
        _ object: TemplateValue, start: TemplateValue?, stop: TemplateValue?, step: TemplateValue?, at position: SourcePosition
    ) throws -> TemplateValue {
        func bound(_ value: TemplateValue?) throws -> Int? {
            guard let value, !value.isEqual(to: .none) else { return nil }
            guard let integer = value.integer else {
                throw ChatTemplateError(.evaluation, "slice indices must be integers, not \(value.typeName)", at: position)
            }
            return integer
        }
        let stride = try bound(step) ?? 1
        guard stride != 0 else { throw ChatTemplateError(.evaluation, "slice step cannot be zero", at: position) }
        func indices(count: Int) throws -> [Int] {
            func clamp(_ value: Int?, default defaultValue: Int) -> Int {
                guard var value else { return defaultValue }
                if value < 0 { value += count }
                return stride > 0 ? min(max(value, 0), count) : min(max(value, -1), count - 1)
            }
            let first = clamp(try bound(start), default: stride > 0 ? 0 : count - 1)
            let end = clamp(try bound(stop), default: stride > 0 ? count : -1)
            return Array(Swift.stride(from: first, to: end, by: stride))
        }
        switch object {
        case .list(let items):
            return .list(try indices(count: items.count).map { items[$0] })
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            var view = String.UnicodeScalarView()
            for index in try indices(count: scalars.count) { view.append(scalars[index]) }
            return .string(String(view))
        case .undefined(let name):
            throw ChatTemplateError(.evaluation, "'\(name)' is undefined", at: position)
        default:
            throw ChatTemplateError(.evaluation, "'\(object.typeName)' object cannot be sliced", at: position)
        }
    }

    private func callFunction(_ name: String, _ arguments: EvaluatedArguments, at position: SourcePosition) throws -> TemplateValue {
        switch name {
        case "raise_exception":
            let message = arguments.positional.first?.rendered ?? ""
            throw ChatTemplateError(.raised, message, at: position)
        case "range":
            let values = try arguments.positional.map { value -> Int in
                guard let integer = value.integer else {
                    throw ChatTemplateError(.evaluation, "range takes integers, not \(value.typeName)", at: position)
                }
                return integer
            }
            let (start, end, step): (Int, Int, Int)
            switch values.count {
            case 1: (start, end, step) = (0, values[0], 1)
            case 2: (start, end, step) = (values[0], values[1], 1)
            case 3: (start, end, step) = (values[0], values[1], values[2])
            default: throw ChatTemplateError(.evaluation, "range takes 1 to 3 arguments", at: position)
            }
            guard step != 0, step != .min else {
                throw ChatTemplateError(.evaluation, "range's step must be a nonzero integer", at: position)
            }
            let span = step > 0 ? end.subtractingReportingOverflow(start) : start.subtractingReportingOverflow(end)
            let count = span.overflow ? Int.max : span.partialValue <= 0 ? 0 : (span.partialValue - 1) / abs(step) + 1
            guard count <= limits.maximumLoopIterations else {
                throw ChatTemplateError(
                    .limitExceeded, "range would hold more than \(limits.maximumLoopIterations) items", at: position)
            }
            return .list(Swift.stride(from: start, to: end, by: step).map { .integer($0) })
        case "namespace", "dict":
            var attributes = TemplateDictionary()
            if case .dictionary(let initial)? = arguments.positional.first { attributes = initial }
            for (key, value) in arguments.named.sorted(by: { $0.key < $1.key }) { attributes[key] = value }
            return name == "namespace" ? .namespace(TemplateNamespace(attributes)) : .dictionary(attributes)
        default:
            throw ChatTemplateError(.unsupported, "unknown function '\(name)'", at: position)
        }
    }
}
