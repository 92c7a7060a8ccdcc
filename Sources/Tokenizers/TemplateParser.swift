/// Turns a template's chunks into a tree of `TemplateNode`s, with Jinja's grammar and operator
/// precedence (lowest first): `x if c else y`, `or`, `and`, `not`, comparisons and `in`, `+ -`,
/// `~`, `* / // %`, `**`, unary `- +`, then filters (`|`), tests (`is`), attributes, subscripts
/// and calls, which bind tightest.
struct TemplateParser {
    private let chunks: [TemplateChunk]
    private var chunkIndex = 0
    private var tokens: [TemplateToken] = []
    private var tokenIndex = 0
    private var depth = 0
    private var loopDepth = 0
    private let maximumDepth: Int

    init(chunks: [TemplateChunk], maximumDepth: Int) {
        self.chunks = chunks
        self.maximumDepth = maximumDepth
    }

    /// Statements this interpreter refuses, with the reason given.
    private static let refusedStatements: [String: String] = [
        "include": "'include' reads other templates, which chat templates may not do",
        "import": "'import' reads other templates, which chat templates may not do",
        "from": "'from … import' reads other templates, which chat templates may not do",
        "extends": "'extends' reads other templates, which chat templates may not do",
        "macro": "'macro' is not supported",
        "call": "'call' is not supported",
        "filter": "filter blocks are not supported",
        "block": "'block' is not supported",
        "raw": "'raw' blocks are not supported",
        "with": "'with' is not supported",
        "autoescape": "'autoescape' is not supported",
        "do": "'do' is not supported",
    ]

    /// Keywords that close or continue a block.
    private static let blockKeywords: Set<String> = [
        "elif", "else", "endif", "endfor", "endset", "endgeneration", "endmacro", "endcall", "endfilter",
        "endblock", "endraw", "endwith", "endautoescape",
    ]

    mutating func parseTemplate() throws -> [TemplateNode] {
        try parseBody(until: [], opener: nil).nodes
    }

    // MARK: Statements

    /// Nodes up to a statement whose keyword is in `terminators` (the tokens are then positioned
    /// after that keyword), or to the end of the template when `opener` is nil.
    private mutating func parseBody(
        until terminators: Set<String>, opener: (keyword: String, position: SourcePosition)?
    ) throws -> (nodes: [TemplateNode], terminator: String?) {
        var nodes: [TemplateNode] = []
        while chunkIndex < chunks.count {
            let chunk = chunks[chunkIndex]
            chunkIndex += 1
            switch chunk {
            case .text(let text, let position):
                nodes.append(.text(text, position))
            case .output(let tagTokens, let position):
                begin(tagTokens)
                let expression = try parseExpression()
                try expectEnd()
                nodes.append(.output(expression, position))
            case .statement(let tagTokens, let position):
                begin(tagTokens)
                guard case .name(let keyword) = current.kind else {
                    throw ChatTemplateError(.syntax, "expected a statement name after '{%'", at: current.position)
                }
                if terminators.contains(keyword) {
                    advance()
                    return (nodes, keyword)
                }
                nodes.append(try parseStatement(keyword, at: position))
            }
        }
        if let opener {
            let expected = terminators.sorted().map { "'{% \($0) %}'" }.joined(separator: " or ")
            throw ChatTemplateError(
                .syntax, "'{% \(opener.keyword) %}' is not closed: the template ended before \(expected)",
                at: opener.position)
        }
        return (nodes, nil)
    }

    private mutating func parseStatement(_ keyword: String, at position: SourcePosition) throws -> TemplateNode {
        if let reason = Self.refusedStatements[keyword] {
            throw ChatTemplateError(.unsupported, reason, at: position)
        }
        if Self.blockKeywords.contains(keyword) {
            throw ChatTemplateError(.syntax, "unexpected '{% \(keyword) %}': no open block takes it here", at: position)
        }
        advance()
        depth += 1
        defer { depth -= 1 }
        if depth > maximumDepth {
            throw ChatTemplateError(.limitExceeded, "blocks nest deeper than \(maximumDepth) levels", at: position)
        }
        switch keyword {
        case "if":
            return try parseIf(at: position)
        case "for":
            return try parseFor(at: position)
        case "set":
            return try parseSet(at: position)
        case "break", "continue":
            try expectEnd()
            guard loopDepth > 0 else {
                throw ChatTemplateError(.syntax, "'{% \(keyword) %}' outside a loop", at: position)
            }
            return keyword == "break" ? .breakLoop : .continueLoop
        case "generation":
            try expectEnd()
            let body = try parseBody(until: ["endgeneration"], opener: (keyword, position))
            try expectEnd()
            return .sequence(body.nodes)
        default:
            throw ChatTemplateError(.unsupported, "unknown statement '\(keyword)'", at: position)
        }
    }

    private mutating func parseIf(at position: SourcePosition) throws -> TemplateNode {
        var branches: [(condition: TemplateExpression, body: [TemplateNode])] = []
        var condition = try parseExpression()
        try expectEnd()
        while true {
            let body = try parseBody(until: ["elif", "else", "endif"], opener: ("if", position))
            branches.append((condition, body.nodes))
            switch body.terminator {
            case "elif":
                condition = try parseExpression()
                try expectEnd()
            case "else":
                try expectEnd()
                let otherwise = try parseBody(until: ["endif"], opener: ("if", position))
                try expectEnd()
                return .conditional(branches: branches, otherwise: otherwise.nodes)
            default:
                try expectEnd()
                return .conditional(branches: branches, otherwise: [])
            }
        }
    }

    private mutating func parseFor(at position: SourcePosition) throws -> TemplateNode {
        var targets = [try expectName()]
        while isSymbol(",") {
            advance()
            targets.append(try expectName())
        }
        guard isName("in") else {
            throw ChatTemplateError(.syntax, "expected 'in' in the for statement", at: current.position)
        }
        advance()
        let iterable = try parseExpression(allowConditional: false)
        var filter: TemplateExpression?
        if isName("if") {
            advance()
            filter = try parseExpression()
        }
        if isName("recursive") {
            throw ChatTemplateError(.unsupported, "recursive loops are not supported", at: current.position)
        }
        try expectEnd()
        loopDepth += 1
        let body = try parseBody(until: ["endfor", "else"], opener: ("for", position))
        loopDepth -= 1
        var otherwise: [TemplateNode] = []
        try expectEnd()
        if body.terminator == "else" {
            otherwise = try parseBody(until: ["endfor"], opener: ("for", position)).nodes
            try expectEnd()
        }
        return .loop(TemplateLoop(
            targets: targets, iterable: iterable, filter: filter, body: body.nodes, otherwise: otherwise,
            position: position))
    }

    private mutating func parseSet(at position: SourcePosition) throws -> TemplateNode {
        let first = try expectName()
        let target: AssignmentTarget
        if isSymbol(".") {
            advance()
            target = .attribute(object: first, name: try expectName())
        } else {
            var names = [first]
            while isSymbol(",") {
                advance()
                names.append(try expectName())
            }
            target = .names(names)
        }
        if case .end = current.kind, case .names(let names) = target, names.count == 1 {
            advance()
            let body = try parseBody(until: ["endset"], opener: ("set", position))
            try expectEnd()
            return .blockAssignment(first, body.nodes)
        }
        try expectSymbol("=")
        let value = try parseTuple()
        try expectEnd()
        return .assignment(target, value, position)
    }

    // MARK: Token stream

    private mutating func begin(_ tagTokens: [TemplateToken]) {
        tokens = tagTokens
        tokenIndex = 0
    }

    private var current: TemplateToken { tokens[tokenIndex] }

    private var following: TemplateToken? { tokenIndex + 1 < tokens.count ? tokens[tokenIndex + 1] : nil }

    private mutating func advance() {
        if tokenIndex < tokens.count - 1 { tokenIndex += 1 }
    }

    private func isSymbol(_ symbol: String) -> Bool {
        if case .symbol(let found) = current.kind { return found == symbol }
        return false
    }

    private func isName(_ name: String) -> Bool {
        if case .name(let found) = current.kind { return found == name }
        return false
    }

    private static func describe(_ token: TemplateToken) -> String {
        switch token.kind {
        case .name(let name): return "'\(name)'"
        case .string: return "string"
        case .integer, .float: return "number"
        case .symbol(let symbol): return "'\(symbol)'"
        case .end: return "end of tag"
        }
    }

    private mutating func expectSymbol(_ symbol: String) throws {
        guard isSymbol(symbol) else {
            throw ChatTemplateError(.syntax, "expected '\(symbol)', found \(Self.describe(current))", at: current.position)
        }
        advance()
    }

    private mutating func expectName() throws -> String {
        guard case .name(let name) = current.kind else {
            throw ChatTemplateError(.syntax, "expected a name, found \(Self.describe(current))", at: current.position)
        }
        advance()
        return name
    }

    private func expectEnd() throws {
        guard case .end = current.kind else {
            throw ChatTemplateError(.syntax, "expected the end of the tag, found \(Self.describe(current))", at: current.position)
        }
    }

    // MARK: Expressions

    /// `a, b, c` without brackets is a tuple (as on the right of `set`).
    private mutating func parseTuple() throws -> TemplateExpression {
        let position = current.position
        let first = try parseExpression()
        guard isSymbol(",") else { return first }
        var items = [first]
        while isSymbol(",") {
            advance()
            if case .end = current.kind { break }
            items.append(try parseExpression())
        }
        return TemplateExpression(.list(items), at: position)
    }

    private mutating func nest(at position: SourcePosition) throws {
        depth += 1
        if depth > maximumDepth {
            throw ChatTemplateError(.limitExceeded, "expressions nest deeper than \(maximumDepth) levels", at: position)
        }
    }

    mutating func parseExpression(allowConditional: Bool = true) throws -> TemplateExpression {
        try nest(at: current.position)
        defer { depth -= 1 }
        let position = current.position
        let value = try parseOr()
        guard allowConditional, isName("if") else { return value }
        advance()
        let condition = try parseOr()
        var otherwise: TemplateExpression?
        if isName("else") {
            advance()
            otherwise = try parseExpression()
        }
        return TemplateExpression(.conditional(value: value, condition: condition, otherwise: otherwise), at: position)
    }

    private mutating func parseOr() throws -> TemplateExpression {
        var left = try parseAnd()
        while isName("or") {
            let position = current.position
            advance()
            left = TemplateExpression(.or(left, try parseAnd()), at: position)
        }
        return left
    }

    private mutating func parseAnd() throws -> TemplateExpression {
        var left = try parseNot()
        while isName("and") {
            let position = current.position
            advance()
            left = TemplateExpression(.and(left, try parseNot()), at: position)
        }
        return left
    }

    private mutating func parseNot() throws -> TemplateExpression {
        guard isName("not") else { return try parseComparison() }
        let position = current.position
        try nest(at: position)
        defer { depth -= 1 }
        advance()
        return TemplateExpression(.not(try parseNot()), at: position)
    }

    private mutating func parseComparison() throws -> TemplateExpression {
        let position = current.position
        let first = try parseAdditive()
        var rest: [(ComparisonOperator, TemplateExpression)] = []
        while true {
            let comparison: ComparisonOperator
            if case .symbol(let symbol) = current.kind, let found = ComparisonOperator(rawValue: symbol) {
                comparison = found
                advance()
            } else if isName("in") {
                comparison = .contained
                advance()
            } else if isName("not"), case .name("in")? = following?.kind {
                comparison = .notContained
                advance()
                advance()
            } else {
                break
            }
            rest.append((comparison, try parseAdditive()))
        }
        return rest.isEmpty ? first : TemplateExpression(.comparison(first, rest), at: position)
    }

    private mutating func parseAdditive() throws -> TemplateExpression {
        try parseBinary(["+", "-"]) { try $0.parseConcatenation() }
    }

    private mutating func parseConcatenation() throws -> TemplateExpression {
        try parseBinary(["~"]) { try $0.parseMultiplicative() }
    }

    private mutating func parseMultiplicative() throws -> TemplateExpression {
        try parseBinary(["*", "/", "//", "%"]) { try $0.parsePower() }
    }

    private mutating func parsePower() throws -> TemplateExpression {
        try parseBinary(["**"]) { try $0.parseUnary(withFilters: true) }
    }

    /// Left-associative operators `symbols` over operands from `operand`.
    private mutating func parseBinary(
        _ symbols: Set<String>, operand: (inout TemplateParser) throws -> TemplateExpression
    ) throws -> TemplateExpression {
        var left = try operand(&self)
        while case .symbol(let symbol) = current.kind, symbols.contains(symbol),
              let arithmetic = ArithmeticOperator(rawValue: symbol) {
            let position = current.position
            advance()
            left = TemplateExpression(.arithmetic(arithmetic, left, try operand(&self)), at: position)
        }
        return left
    }

    private mutating func parseUnary(withFilters: Bool) throws -> TemplateExpression {
        let position = current.position
        try nest(at: position)
        defer { depth -= 1 }
        var node: TemplateExpression
        if isSymbol("-") {
            advance()
            node = TemplateExpression(.negate(try parseUnary(withFilters: false)), at: position)
        } else if isSymbol("+") {
            advance()
            node = TemplateExpression(.unaryPlus(try parseUnary(withFilters: false)), at: position)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilters { node = try parseFiltersAndTests(node) }
        return node
    }

    private mutating func parsePrimary() throws -> TemplateExpression {
        let token = current
        switch token.kind {
        case .name(let name):
            advance()
            switch name {
            case "true", "True": return TemplateExpression(.literal(.boolean(true)), at: token.position)
            case "false", "False": return TemplateExpression(.literal(.boolean(false)), at: token.position)
            case "none", "None": return TemplateExpression(.literal(.none), at: token.position)
            default: return TemplateExpression(.variable(name), at: token.position)
            }
        case .string(var text):
            advance()
            // Adjacent literals join, as in Python.
            while case .string(let more) = current.kind {
                text += more
                advance()
            }
            return TemplateExpression(.literal(.string(text)), at: token.position)
        case .integer(let value):
            advance()
            return TemplateExpression(.literal(.integer(value)), at: token.position)
        case .float(let value):
            advance()
            return TemplateExpression(.literal(.float(value)), at: token.position)
        case .symbol("("):
            advance()
            if isSymbol(")") {
                advance()
                return TemplateExpression(.list([]), at: token.position)
            }
            let first = try parseExpression()
            guard isSymbol(",") else {
                try expectSymbol(")")
                return first
            }
            var items = [first]
            while isSymbol(",") {
                advance()
                if isSymbol(")") { break }
                items.append(try parseExpression())
            }
            try expectSymbol(")")
            return TemplateExpression(.list(items), at: token.position)
        case .symbol("["):
            advance()
            var items: [TemplateExpression] = []
            while !isSymbol("]") {
                items.append(try parseExpression())
                if !isSymbol(",") { break }
                advance()
            }
            try expectSymbol("]")
            return TemplateExpression(.list(items), at: token.position)
        case .symbol("{"):
            advance()
            var entries: [(key: TemplateExpression, value: TemplateExpression)] = []
            while !isSymbol("}") {
                let key = try parseExpression()
                try expectSymbol(":")
                entries.append((key, try parseExpression()))
                if !isSymbol(",") { break }
                advance()
            }
            try expectSymbol("}")
            return TemplateExpression(.dictionary(entries), at: token.position)
        default:
            throw ChatTemplateError(.syntax, "unexpected \(Self.describe(token))", at: token.position)
        }
    }

    /// Attributes, subscripts and calls after a primary expression.
    private mutating func parsePostfix(_ start: TemplateExpression) throws -> TemplateExpression {
        var node = start
        while true {
            let position = current.position
            if isSymbol(".") {
                advance()
                if case .integer(let index) = current.kind {
                    advance()
                    node = TemplateExpression(.item(node, TemplateExpression(.literal(.integer(index)), at: position)), at: position)
                } else {
                    node = TemplateExpression(.attribute(node, try expectName()), at: position)
                }
            } else if isSymbol("[") {
                advance()
                node = try parseSubscript(node, at: position)
            } else if isSymbol("(") {
                let arguments = try parseArguments()
                switch node.kind {
                case .variable(let name):
                    node = TemplateExpression(.function(name: name, arguments: arguments), at: node.position)
                case .attribute(let object, let name):
                    node = TemplateExpression(.method(object, name: name, arguments: arguments), at: node.position)
                default:
                    throw ChatTemplateError(.unsupported, "only functions and methods can be called", at: position)
                }
            } else {
                return node
            }
        }
    }

    /// `[index]` or `[start:stop:step]`, after the `[`.
    private mutating func parseSubscript(_ object: TemplateExpression, at position: SourcePosition) throws -> TemplateExpression {
        var parts: [TemplateExpression?] = []
        var part: TemplateExpression?
        var sawColon = false
        while !isSymbol("]") {
            if isSymbol(":") {
                advance()
                parts.append(part)
                part = nil
                sawColon = true
                guard parts.count < 3 else {
                    throw ChatTemplateError(.syntax, "a slice has at most three parts", at: position)
                }
            } else {
                guard part == nil else {
                    throw ChatTemplateError(.syntax, "expected ':' or ']' in the subscript", at: current.position)
                }
                part = try parseExpression()
            }
        }
        try expectSymbol("]")
        parts.append(part)
        guard sawColon else {
            guard let index = parts[0] else {
                throw ChatTemplateError(.syntax, "an empty subscript", at: position)
            }
            return TemplateExpression(.item(object, index), at: position)
        }
        while parts.count < 3 { parts.append(nil) }
        return TemplateExpression(.slice(object, start: parts[0], stop: parts[1], step: parts[2]), at: position)
    }

    /// `(a, b, name=c)`, starting at the `(`.
    private mutating func parseArguments() throws -> TemplateArguments {
        try expectSymbol("(")
        var arguments = TemplateArguments()
        while !isSymbol(")") {
            if case .name(let name) = current.kind, case .symbol("=")? = following?.kind {
                advance()
                advance()
                arguments.named.append((name, try parseExpression()))
            } else {
                guard arguments.named.isEmpty else {
                    throw ChatTemplateError(
                        .syntax, "a positional argument follows a keyword argument", at: current.position)
                }
                arguments.positional.append(try parseExpression())
            }
            if !isSymbol(",") { break }
            advance()
        }
        try expectSymbol(")")
        return arguments
    }

    /// `| filter(arguments)` and `is [not] test argument`, left to right.
    private mutating func parseFiltersAndTests(_ start: TemplateExpression) throws -> TemplateExpression {
        var node = start
        while true {
            if isSymbol("|") {
                advance()
                let position = current.position
                let name = try expectName()
                guard TemplateBuiltins.filterNames.contains(name) else {
                    throw ChatTemplateError(.unsupported, "unknown filter '\(name)'", at: position)
                }
                let arguments = isSymbol("(") ? try parseArguments() : .none
                node = TemplateExpression(.filter(node, name: name, arguments: arguments), at: position)
            } else if isName("is") {
                advance()
                var negated = false
                if isName("not") {
                    advance()
                    negated = true
                }
                let position = current.position
                let name = try expectName()
                guard TemplateBuiltins.testNames.contains(name) else {
                    throw ChatTemplateError(.unsupported, "unknown test '\(name)'", at: position)
                }
                var arguments = TemplateArguments.none
                if isSymbol("(") {
                    arguments = try parseArguments()
                } else if startsTestArgument {
                    arguments.positional = [try parsePostfix(try parsePrimary())]
                }
                node = TemplateExpression(.test(node, name: name, arguments: arguments, negated: negated), at: position)
            } else {
                return node
            }
        }
    }

    /// Whether the current token starts the single argument of a test written without
    /// parentheses (`is divisibleby 3`, `is sameas false`).
    private var startsTestArgument: Bool {
        switch current.kind {
        case .name(let name): return !["else", "or", "and", "if", "is", "in", "not"].contains(name)
        case .string, .integer, .float, .symbol("["), .symbol("{"): return true
        default: return false
        }
    }
}
