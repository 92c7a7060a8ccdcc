/// How a plain-text (`.txt`) file becomes the documents of a `TextCorpus`.
public enum PlainTextSplit: Sendable, Equatable {
    /// Every run of non-blank lines is a document; lines holding only whitespace separate documents and belong to
    /// none. Line endings inside a document become `\n`.
    case blankLines
    /// The whole file is one document, exactly as written (a leading UTF-8 byte-order mark is dropped).
    case wholeFile
}
