/// One document of a `TextCorpus`: a text the model learns to continue, and where it came from.
public struct CorpusDocument: Sendable, Equatable, Hashable {
    /// The text, exactly as in the file (for a plain-text file split on blank lines, the block's lines joined by
    /// `\n`).
    public var text: String
    /// 1-based line on which the document starts in its file; nil for documents built in memory.
    public var line: Int?

    /// A document with `text`, from `line` of a file if it came from one.
    public init(text: String, line: Int? = nil) {
        self.text = text
        self.line = line
    }
}
