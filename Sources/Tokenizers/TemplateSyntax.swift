/// An expression of a chat template, with the place it starts in the source.
final class TemplateExpression: Sendable {
    enum Kind: Sendable {
        case literal(TemplateValue)
        case variable(String)
        /// A list or tuple literal.
        case list([TemplateExpression])
        case dictionary([(key: TemplateExpression, value: TemplateExpression)])
        /// `object.name`
        case attribute(TemplateExpression, String)
        /// `object[key]`
        case item(TemplateExpression, TemplateExpression)
        /// `object[start:stop:step]`
        case slice(TemplateExpression, start: TemplateExpression?, stop: TemplateExpression?, step: TemplateExpression?)
        case not(TemplateExpression)
        case negate(TemplateExpression)
        case unaryPlus(TemplateExpression)
        case arithmetic(ArithmeticOperator, TemplateExpression, TemplateExpression)
        case and(TemplateExpression, TemplateExpression)
        case or(TemplateExpression, TemplateExpression)
        /// `a < b <= c`: each comparison with the operand before it, all of them true.
        case comparison(TemplateExpression, [(ComparisonOperator, TemplateExpression)])
        /// `value if condition else otherwise`
        case conditional(value: TemplateExpression, condition: TemplateExpression, otherwise: TemplateExpression?)
        /// `value | name(arguments)`
        case filter(TemplateExpression, name: String, arguments: TemplateArguments)
        /// `value is [not] name(arguments)`
        case test(TemplateExpression, name: String, arguments: TemplateArguments, negated: Bool)
        /// `name(arguments)`
        case function(name: String, arguments: TemplateArguments)
        /// `object.name(arguments)`
        case method(TemplateExpression, name: String, arguments: TemplateArguments)
    }

    let kind: Kind
    let position: SourcePosition

    init(_ kind: Kind, at position: SourcePosition) {
        self.kind = kind
        self.position = position
    }
}

/// The arguments of a call, filter or test.
struct TemplateArguments: Sendable {
    var positional: [TemplateExpression] = []
    var named: [(name: String, value: TemplateExpression)] = []

    static let none = TemplateArguments()
}

enum ArithmeticOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%"
    case power = "**", concatenate = "~"
}

enum ComparisonOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case contained = "in", notContained = "not in"
}

/// A statement or piece of output of a chat template.
indirect enum TemplateNode: Sendable {
    case text(String, SourcePosition)
    /// `{{ expression }}`, with the tag's position.
    case output(TemplateExpression, SourcePosition)
    /// `{% if %}…{% elif %}…{% else %}…{% endif %}`
    case conditional(branches: [(condition: TemplateExpression, body: [TemplateNode])], otherwise: [TemplateNode])
    /// `{% for %}…{% else %}…{% endfor %}`
    case loop(TemplateLoop)
    /// `{% set target = value %}`
    case assignment(AssignmentTarget, TemplateExpression, SourcePosition)
    /// `{% set name %}…{% endset %}`
    case blockAssignment(String, [TemplateNode])
    /// `{% break %}`
    case breakLoop
    /// `{% continue %}`
    case continueLoop
    /// Nodes rendered in order (the body of `{% generation %}`).
    case sequence([TemplateNode])
}

/// A `for` statement.
struct TemplateLoop: Sendable {
    /// `for message in ...` has one target; `for key, value in ...` two or more.
    var targets: [String]
    var iterable: TemplateExpression
    /// `for x in items if condition`: items for which it is false are skipped before the loop
    /// counts them.
    var filter: TemplateExpression?
    var body: [TemplateNode]
    /// Rendered when there was nothing to iterate.
    var otherwise: [TemplateNode]
    var position: SourcePosition
}

/// What `{% set %}` assigns to.
enum AssignmentTarget: Sendable {
    /// One name, or several unpacked from a sequence.
    case names([String])
    /// An attribute of a namespace: `ns.name`.
    case attribute(object: String, name: String)
}
