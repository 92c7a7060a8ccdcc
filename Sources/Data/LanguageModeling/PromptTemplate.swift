/// A prompt written by the user, with `{column}` placeholders that each row of a dataset fills in, e.g.
/// `"Please answer the following question.\nQ: {instruction}\nA: "`.
///
/// A placeholder is `{name}`, where the name is one or more characters other than braces, taken exactly (spaces
/// included) as a column name. `{{` and `}}` write literal braces. Everything else is copied as written.
public struct PromptTemplate: Sendable, Equatable, CustomStringConvertible {
    /// One stretch of the template.
    enum Part: Sendable, Equatable {
        /// Text copied as written (literal braces already undoubled).
        case literal(String)
        /// A column whose value goes here.
        case placeholder(String)
    }

    /// The template as written.
    public let source: String
    /// The columns the template names, in order of first appearance, each once.
    public let placeholders: [String]
    let parts: [Part]

    /// Parses `source`.
    /// - Throws: `PromptTemplateError` for an unclosed or empty placeholder, a `{` inside a placeholder, or a single
    ///   `}` outside one.
    public init(_ source: String) throws(PromptTemplateError) {
        var parts: [Part] = []
        var placeholders: [String] = []
        var literal = ""
        let characters = Array(source)
        var index = 0
        func fail(_ kind: PromptTemplateError.Kind) -> PromptTemplateError {
            PromptTemplateError(template: source, kind: kind)
        }
        while index < characters.count {
            let character = characters[index]
            let next: Character? = index + 1 < characters.count ? characters[index + 1] : nil
            if character == "{" && next == "{" || character == "}" && next == "}" {
                literal.append(character)
                index += 2
            } else if character == "}" {
                throw fail(.unmatchedClosingBrace(offset: index))
            } else if character == "{" {
                var end = index + 1
                while end < characters.count && characters[end] != "}" {
                    if characters[end] == "{" { throw fail(.braceInPlaceholder(offset: end)) }
                    end += 1
                }
                guard end < characters.count else { throw fail(.unclosedPlaceholder(offset: index)) }
                guard end > index + 1 else { throw fail(.emptyPlaceholder(offset: index)) }
                let name = String(characters[(index + 1)..<end])
                if !literal.isEmpty { parts.append(.literal(literal)) }
                literal = ""
                parts.append(.placeholder(name))
                if !placeholders.contains(name) { placeholders.append(name) }
                index = end + 1
            } else {
                literal.append(character)
                index += 1
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.source = source
        self.parts = parts
        self.placeholders = placeholders
    }

    /// The template with every placeholder replaced by `values[name]`.
    /// - Throws: `PromptTemplateError.Kind.unknownPlaceholder` for a placeholder `values` has no entry for.
    public func render(_ values: [String: String]) throws(PromptTemplateError) -> String {
        try render { name throws(PromptTemplateError) in
            guard let value = values[name] else {
                throw PromptTemplateError(template: source, kind: .unknownPlaceholder(name))
            }
            return value
        }
    }

    /// The template with every placeholder replaced by `value(name)`, which is asked once per occurrence, in order.
    public func render<Failure: Error>(value: (String) throws(Failure) -> String) throws(Failure) -> String {
        var text = ""
        for part in parts {
            switch part {
            case .literal(let literal): text += literal
            case .placeholder(let name): text += try value(name)
            }
        }
        return text
    }

    /// The source as written.
    public var description: String { source }
}
