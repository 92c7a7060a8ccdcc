import Foundation

/// Texts for self-supervised training of a decoder language model (causal language modelling), loaded from a
/// JSON-lines file with a text column or from a plain-text file.
///
/// Turn it into training sequences with `packedBlocks(tokenizer:blockLength:)` (documents joined into one stream and
/// cut into equal blocks) or `paddedRows(tokenizer:maxLength:)` (one document per sequence).
public struct TextCorpus: Sendable, RandomAccessCollection {
    /// The documents, in file order.
    public let documents: [CorpusDocument]
    /// The file the documents came from, if any.
    public let source: URL?
    /// The rows left out under `BadRowPolicy.skip`, each with its reason, in file order.
    public let skippedRows: [DatasetError]

    /// The extensions `load(from:textColumn:badRows:plainTextSplit:)` reads.
    public static let supportedPathExtensions = JSONObjectRows.pathExtensions + ["txt"]

    /// A corpus of in-memory documents.
    public init(documents: [CorpusDocument], source: URL? = nil, skippedRows: [DatasetError] = []) {
        self.documents = documents
        self.source = source
        self.skippedRows = skippedRows
    }

    /// A corpus of in-memory texts.
    public init(texts: [String]) {
        self.init(documents: texts.map { CorpusDocument(text: $0) })
    }

    /// Loads a corpus from `url`.
    ///
    /// - A JSON-lines file (`.jsonl`, `.ndjson`) gives one document per row: the string in `textColumn`, which
    ///   must hold something other than whitespace. Blank lines are ignored.
    /// - A plain-text file (`.txt`, UTF-8) is split as `plainTextSplit` says.
    ///
    /// - Throws: `DatasetError` naming the file, line and column: for another extension, an unreadable file, any bad
    ///   row under `.fail` (not JSON, not an object, missing column, text that is not a string or is empty), text
    ///   that is not UTF-8, and a corpus with no documents left.
    public static func load(
        from url: URL,
        textColumn: String = "text",
        badRows: BadRowPolicy = .fail,
        plainTextSplit: PlainTextSplit = .blankLines
    ) throws(DatasetError) -> TextCorpus {
        try JSONObjectRows.requireExtension(of: url, among: supportedPathExtensions)
        let documents: [CorpusDocument]
        var skippedRows: [DatasetError] = []
        if url.pathExtension.lowercased() == "txt" {
            documents = try readPlainText(url, split: plainTextSplit)
        } else {
            var kept: [CorpusDocument] = []
            for row in try JSONObjectRows.read(url).rows {
                do throws(DatasetError) {
                    let columns = RowColumns(file: url, line: row.line, object: try row.object.get())
                    kept.append(CorpusDocument(text: try columns.nonEmptyString(textColumn), line: row.line))
                } catch {
                    if badRows == .fail { throw error }
                    skippedRows.append(error)
                }
            }
            documents = kept
        }
        if documents.isEmpty {
            throw DatasetError(file: url, reason: .emptyDataset)
        }
        return TextCorpus(documents: documents, source: url, skippedRows: skippedRows)
    }

    /// Number of documents.
    public var count: Int { documents.count }
    public var startIndex: Int { 0 }
    public var endIndex: Int { documents.count }
    public subscript(position: Int) -> CorpusDocument { documents[position] }

    /// The documents' texts, in order.
    public var texts: [String] { documents.map(\.text) }

    /// The documents of a plain-text file.
    private static func readPlainText(_ url: URL, split: PlainTextSplit) throws(DatasetError) -> [CorpusDocument] {
        let bytes = try JSONObjectRows.readBytes(of: url)
        var lines: [(text: String, number: Int)] = []
        var lineNumber = 0
        var start = bytes.startIndex
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start += 3 }
        let textStart = start
        while start < bytes.endIndex {
            lineNumber += 1
            let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            var end = newline
            if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            guard let line = String(data: bytes[start..<end], encoding: .utf8) else {
                throw DatasetError(file: url, line: lineNumber, reason: .invalidUTF8)
            }
            lines.append((line, lineNumber))
            start = newline + 1
        }
        switch split {
        case .wholeFile:
            let text = String(decoding: bytes[textStart...], as: UTF8.self)
            return text.allSatisfy(\.isWhitespace) ? [] : [CorpusDocument(text: text, line: 1)]
        case .blankLines:
            var documents: [CorpusDocument] = []
            var block: [String] = []
            var blockLine = 0
            for (text, number) in lines {
                if text.allSatisfy(\.isWhitespace) {
                    if !block.isEmpty { documents.append(CorpusDocument(text: block.joined(separator: "\n"), line: blockLine)) }
                    block = []
                } else {
                    if block.isEmpty { blockLine = number }
                    block.append(text)
                }
            }
            if !block.isEmpty { documents.append(CorpusDocument(text: block.joined(separator: "\n"), line: blockLine)) }
            return documents
        }
    }
}
