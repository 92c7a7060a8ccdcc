/// Why a `PromptTemplate` could not be parsed or filled in; the description names the template.
public struct PromptTemplateError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong.
    public enum Kind: Equatable, Sendable {
        /// A `{` with no `}` after it; the offset (in characters) of the `{`.
        case unclosedPlaceholder(offset: Int)
        /// A `}` that closes nothing and is not doubled (`}}` writes one `}`); its offset (in characters).
        case unmatchedClosingBrace(offset: Int)
        /// `{}` with no column name in it; the offset (in characters) of the `{`.
        case emptyPlaceholder(offset: Int)
        /// A `{` inside a placeholder; the offset (in characters) of the inner `{`.
        case braceInPlaceholder(offset: Int)
        /// The template names a column (the placeholder) for which no value was given.
        case unknownPlaceholder(String)
    }

    /// The template's source.
    public var template: String
    /// What went wrong.
    public var kind: Kind

    /// An error of `kind` in `template`.
    public init(template: String, kind: Kind) {
        self.template = template
        self.kind = kind
    }

    /// `prompt template "…": <message>`.
    public var description: String {
        let message: String
        switch kind {
        case .unclosedPlaceholder(let offset): message = "the \"{\" at character \(offset) is never closed"
        case .unmatchedClosingBrace(let offset):
            message = "the \"}\" at character \(offset) closes no placeholder (write \"}}\" for a literal brace)"
        case .emptyPlaceholder(let offset): message = "the placeholder at character \(offset) names no column"
        case .braceInPlaceholder(let offset):
            message = "the \"{\" at character \(offset) is inside a placeholder (write \"{{\" for a literal brace)"
        case .unknownPlaceholder(let name): message = "no value for the placeholder \"{\(name)}\""
        }
        return "prompt template \(template.debugDescription): \(message)"
    }
}
