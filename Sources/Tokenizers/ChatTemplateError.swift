/// Why a chat template could not be parsed or rendered, with the line and column (1-based, in
/// Unicode scalars) of the construct at fault.
public struct ChatTemplateError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What kind of problem it is.
    public enum Kind: Equatable, Sendable {
        /// The template is not well-formed: an unclosed tag or string, an unexpected token, a
        /// missing `{% endif %}`, ...
        case syntax
        /// Valid Jinja that this interpreter does not support (an unknown filter, test, function
        /// or method; `include`, `macro`, ...).
        case unsupported
        /// An operation failed while rendering: wrong types, an undefined value used, ...
        case evaluation
        /// The template called `raise_exception(message)`; `message` is its argument.
        case raised
        /// Rendering went past a limit on output size, loop iterations or nesting depth.
        case limitExceeded
    }

    /// What kind of problem it is.
    public var kind: Kind
    /// What went wrong, without the position.
    public var message: String
    /// 1-based line of the construct at fault; 0 when the error is not about a place in the source.
    public var line: Int
    /// 1-based column (in Unicode scalars) of the construct at fault.
    public var column: Int

    /// An error of `kind` about the construct at `line` and `column`.
    public init(kind: Kind, message: String, line: Int, column: Int) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
    }

    init(_ kind: Kind, _ message: String, at position: SourcePosition) {
        self.init(kind: kind, message: message, line: position.line, column: position.column)
    }

    /// `chat template, line L, column C: <message>`.
    public var description: String {
        line > 0 ? "chat template, line \(line), column \(column): \(message)" : "chat template: \(message)"
    }
}

/// A place in a template's source: 1-based line and column (in Unicode scalars).
struct SourcePosition: Equatable, Sendable {
    var line: Int
    var column: Int
}
