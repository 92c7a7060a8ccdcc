import Foundation

/// A problem found while loading a dataset file, located by file, line and column where they apply.
///
/// The `description` reads as `train.jsonl, line 12, column "label": label 7 is not an id of the label map (0..<2)`.
public struct DatasetError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public enum Reason: Sendable, Equatable {
        /// The file could not be read (the underlying message).
        case unreadableFile(String)
        /// The file's extension names no supported format.
        case unsupportedFormat(pathExtension: String)
        /// The row's bytes are not valid UTF-8.
        case invalidUTF8
        /// The line is not valid JSON (the parser's message).
        case invalidJSON(String)
        /// The line is JSON but not an object.
        case notAnObject
        /// The row has no such column.
        case missingColumn
        /// The text column holds something other than a string (its JSON type).
        case textNotString(found: String)
        /// The text is empty or only whitespace.
        case emptyText
        /// The label is neither an integer nor a string (its JSON type), or a non-integral number.
        case invalidLabel(found: String)
        /// The label (as written in the file) is neither a name nor an id of the label map (whose names are given).
        case labelNotInMap(String, labelNames: [String])
        /// A CSV file without a header row.
        case missingHeader
        /// A CSV header that names a column twice.
        case duplicateColumn
        /// A CSV record whose field count differs from the header's.
        case wrongFieldCount(expected: Int, found: Int)
        /// A CSV quoted field followed by something other than a comma or the end of the record.
        case textAfterClosingQuote
        /// A CSV quoted field still open at the end of the file.
        case unterminatedQuote
        /// No usable rows (after skipping bad ones, if any).
        case emptyDataset
        /// The file's extension names none of the formats this loader reads (which are given).
        case unsupportedFileType(pathExtension: String, supported: [String])
        /// A prompt template names a column (the error's `column`) that no row of the file has; the template's
        /// source and the columns the rows do have are given.
        case unknownPlaceholder(template: String, columns: [String])
        /// A column that should hold a conversation (a list of `{"role", "content"}` objects) does not; says why.
        case invalidMessages(String)
        /// The chat template could not render the row's conversation (the template's message).
        case chatTemplateFailed(String)
        /// A ranking that is not a permutation of its completions' ranks, or fewer than two completions.
        case invalidRanking(String)
        /// A value that must be a number (a pair's `margin`) is not.
        case notANumber(found: String)
    }

    /// The file being loaded.
    public let file: URL
    /// 1-based line on which the row starts (a CSV header is line 1); nil for whole-file problems.
    public let line: Int?
    /// The column concerned, if any.
    public let column: String?
    /// What went wrong.
    public let reason: Reason

    /// An error at `line` (and `column`) of `file`.
    public init(file: URL, line: Int? = nil, column: String? = nil, reason: Reason) {
        self.file = file
        self.line = line
        self.column = column
        self.reason = reason
    }

    /// `path, line N, column "c": message`.
    public var description: String {
        var location = file.path
        if let line { location += ", line \(line)" }
        if let column { location += ", column \"\(column)\"" }
        return "\(location): \(reasonDescription)"
    }

    /// The message without the location.
    public var reasonDescription: String {
        switch reason {
        case .unreadableFile(let message): return "cannot read file: \(message)"
        case .unsupportedFormat(let pathExtension):
            return "unsupported file extension \"\(pathExtension)\" (expected jsonl, ndjson or csv)"
        case .invalidUTF8: return "invalid UTF-8"
        case .invalidJSON(let message): return "not valid JSON: \(message)"
        case .notAnObject: return "not a JSON object"
        case .missingColumn: return "missing column"
        case .textNotString(let found): return "text is \(found), not a string"
        case .emptyText: return "text is empty"
        case .invalidLabel(let found): return "label is \(found), not an integer or a string"
        case .labelNotInMap(let label, let labelNames):
            let known = labelNames.enumerated().map { "\($0.offset) \"\($0.element)\"" }.joined(separator: ", ")
            return "label \(label) is not in the label map (\(known))"
        case .missingHeader: return "no header row"
        case .duplicateColumn: return "the header names this column more than once"
        case .wrongFieldCount(let expected, let found): return "\(found) fields, the header has \(expected)"
        case .textAfterClosingQuote: return "text after a closing quote"
        case .unterminatedQuote: return "quoted field not closed before the end of the file"
        case .emptyDataset: return "no rows"
        case .unsupportedFileType(let pathExtension, let supported):
            return "unsupported file extension \"\(pathExtension)\" (expected \(supported.joined(separator: ", ")))"
        case .unknownPlaceholder(let template, let columns):
            let known = columns.map { "\"\($0)\"" }.joined(separator: ", ")
            return "the prompt template \(template.debugDescription) names a column that no row has (columns: \(known))"
        case .invalidMessages(let message): return "not a list of messages: \(message)"
        case .chatTemplateFailed(let message): return "the chat template failed: \(message)"
        case .invalidRanking(let message): return "not a usable ranking: \(message)"
        case .notANumber(let found): return "the value is \(found), not a number"
        }
    }
}
