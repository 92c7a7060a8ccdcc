import Foundation

/// Python's operators on template values: arithmetic with integer overflow checked, string and
/// list concatenation and repetition (bounded by the size limit), comparisons and `in`.
enum TemplateArithmetic {
    static func apply(
        _ operation: ArithmeticOperator, _ left: TemplateValue, _ right: TemplateValue, _ context: BuiltinContext
    ) throws -> TemplateValue {
        if operation == .concatenate { return try context.checked(left.rendered + right.rendered) }
        for operand in [left, right] {
            if case .undefined(let name) = operand { throw context.error("'\(name)' is undefined") }
        }
        switch (operation, left, right) {
        case (.add, .string(let first), .string(let second)):
            return try context.checked(first + second)
        case (.add, .list(let first), .list(let second)):
            return try listWithinLimit(first + second, context)
        case (.multiply, .string(let text), _) where right.integer != nil:
            return try context.checked(try repeated(text, right.integer!, context))
        case (.multiply, _, .string(let text)) where left.integer != nil:
            return try context.checked(try repeated(text, left.integer!, context))
        case (.multiply, .list(let items), _) where right.integer != nil:
            return try listWithinLimit(try repeatedList(items, right.integer!, context), context)
        case (.modulo, .string, _):
            throw ChatTemplateError(.unsupported, "'%' string formatting is not supported", at: context.position)
        default:
            break
        }
        if let first = left.integer, let second = right.integer {
            return try integerArithmetic(operation, first, second, context)
        }
        guard let first = left.number, let second = right.number else {
            throw context.error(
                "unsupported operand types for \(operation.rawValue): '\(left.typeName)' and '\(right.typeName)'")
        }
        switch operation {
        case .add: return .float(first + second)
        case .subtract: return .float(first - second)
        case .multiply: return .float(first * second)
        case .divide:
            guard second != 0 else { throw context.error("division by zero") }
            return .float(first / second)
        case .floorDivide:
            guard second != 0 else { throw context.error("division by zero") }
            return .float((first / second).rounded(.down))
        case .modulo:
            guard second != 0 else { throw context.error("modulo by zero") }
            let remainder = first.truncatingRemainder(dividingBy: second)
            return .float(remainder != 0 && (remainder < 0) != (second < 0) ? remainder + second : remainder)
        case .power: return .float(pow(first, second))
        case .concatenate: return .string(left.rendered + right.rendered)
        }
    }

    private static func integerArithmetic(
        _ operation: ArithmeticOperator, _ first: Int, _ second: Int, _ context: BuiltinContext
    ) throws -> TemplateValue {
        func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> TemplateValue {
            guard !result.overflow else { throw context.error("integer overflow in \(operation.rawValue)") }
            return .integer(result.partialValue)
        }
        switch operation {
        case .add: return try checked(first.addingReportingOverflow(second))
        case .subtract: return try checked(first.subtractingReportingOverflow(second))
        case .multiply: return try checked(first.multipliedReportingOverflow(by: second))
        case .divide:
            guard second != 0 else { throw context.error("division by zero") }
            return .float(Double(first) / Double(second))
        case .floorDivide, .modulo:
            guard second != 0 else { throw context.error("\(operation == .modulo ? "modulo" : "division") by zero") }
            guard !(first == .min && second == -1) else { throw context.error("integer overflow in \(operation.rawValue)") }
            var quotient = first / second
            var remainder = first % second
            // Python rounds toward negative infinity, so the remainder takes the divisor's sign.
            if remainder != 0 && (remainder < 0) != (second < 0) {
                quotient -= 1
                remainder += second
            }
            return .integer(operation == .modulo ? remainder : quotient)
        case .power:
            guard second >= 0 else { return .float(pow(Double(first), Double(second))) }
            var result = 1
            for _ in 0..<min(second, 64) {
                let product = result.multipliedReportingOverflow(by: first)
                guard !product.overflow else { throw context.error("integer overflow in **") }
                result = product.partialValue
            }
            if second > 64 && abs(first) > 1 { throw context.error("integer overflow in **") }
            return .integer(second > 64 && first == -1 ? (second % 2 == 0 ? 1 : -1) : result)
        case .concatenate:
            return .string(String(first) + String(second))
        }
    }

    private static func repeated(_ text: String, _ count: Int, _ context: BuiltinContext) throws -> String {
        guard count > 0 else { return "" }
        let total = text.utf8.count.multipliedReportingOverflow(by: count)
        guard !total.overflow, total.partialValue <= context.sizeLimit else {
            throw ChatTemplateError(.limitExceeded, "a string grew past \(context.sizeLimit) bytes", at: context.position)
        }
        return String(repeating: text, count: count)
    }

    private static func repeatedList(_ items: [TemplateValue], _ count: Int, _ context: BuiltinContext) throws -> [TemplateValue] {
        guard count > 0, !items.isEmpty else { return [] }
        guard items.count <= context.sizeLimit / count else {
            throw ChatTemplateError(.limitExceeded, "a list grew past \(context.sizeLimit) items", at: context.position)
        }
        return Array([[TemplateValue]](repeating: items, count: count).joined())
    }

    private static func listWithinLimit(_ items: [TemplateValue], _ context: BuiltinContext) throws -> TemplateValue {
        guard items.count <= context.sizeLimit else {
            throw ChatTemplateError(.limitExceeded, "a list grew past \(context.sizeLimit) items", at: context.position)
        }
        return .list(items)
    }

    /// One comparison of a chain.
    static func compare(
        _ comparison: ComparisonOperator, _ left: TemplateValue, _ right: TemplateValue, _ context: BuiltinContext
    ) throws -> Bool {
        func less(_ first: TemplateValue, _ second: TemplateValue) throws -> Bool {
            guard let result = first.isLess(than: second) else {
                throw context.error(
                    "'\(comparison.rawValue)' is not supported between '\(left.typeName)' and '\(right.typeName)'")
            }
            return result
        }
        switch comparison {
        case .equal: return left.isEqual(to: right)
        case .notEqual: return !left.isEqual(to: right)
        case .less: return try less(left, right)
        case .lessOrEqual: return try !less(right, left)
        case .greater: return try less(right, left)
        case .greaterOrEqual: return try !less(left, right)
        case .contained: return try contains(left, right, context)
        case .notContained: return try !contains(left, right, context)
        }
    }

    /// `needle in haystack`: a substring, a list item, a dict key; nothing is in undefined.
    static func contains(_ needle: TemplateValue, _ haystack: TemplateValue, _ context: BuiltinContext) throws -> Bool {
        switch haystack {
        case .undefined:
            return false
        case .string(let text):
            guard case .string(let part) = needle else {
                throw context.error("'in <string>' requires a string as the left operand, not \(needle.typeName)")
            }
            return part.isEmpty || PythonString.find(part, in: text) != nil
        case .list(let items):
            return items.contains { $0.isEqual(to: needle) }
        case .dictionary(let dictionary):
            guard case .string(let key) = needle else { return false }
            return dictionary[key] != nil
        default:
            throw context.error("argument of type '\(haystack.typeName)' is not iterable")
        }
    }
}
