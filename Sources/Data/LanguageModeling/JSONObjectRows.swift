import Foundation
import Tokenizers

/// The rows of a JSON-lines file as JSON objects, each with its line, for the loaders that read several columns of a
/// row (or need to know every column the file has before judging a row).
struct JSONObjectRows {
    /// One non-blank line: its object, or the `DatasetError` that says why it is not one.
    struct Row {
        /// 1-based line number.
        let line: Int
        /// The parsed object, or the error for the line.
        let object: Result<[String: Any], DatasetError>
    }

    /// The file read.
    let file: URL
    /// The non-blank lines, in file order.
    let rows: [Row]

    /// The extensions of JSON-lines files.
    static let pathExtensions = ["jsonl", "ndjson"]

    /// Reads and parses `file`, which must have one of `pathExtensions`.
    /// - Throws: `DatasetError` for another extension or a file that cannot be read; rows that are not JSON objects
    ///   are reported in `rows`, not thrown.
    static func read(_ file: URL) throws(DatasetError) -> JSONObjectRows {
        try requireExtension(of: file, among: pathExtensions)
        let bytes = try readBytes(of: file)
        var rows: [Row] = []
        JSONLinesReader.forEachLine(in: bytes) { line, lineNumber in
            rows.append(Row(line: lineNumber, object: parseObject(line, file: file, line: lineNumber)))
        }
        return JSONObjectRows(file: file, rows: rows)
    }

    /// Every column that at least one row has, sorted.
    var columnNames: [String] {
        var names = Set<String>()
        for row in rows {
            if case .success(let object) = row.object { names.formUnion(object.keys) }
        }
        return names.sorted()
    }

    /// Throws unless `file`'s extension (compared case-insensitively) is one of `supported`.
    static func requireExtension(of file: URL, among supported: [String]) throws(DatasetError) {
        guard supported.contains(file.pathExtension.lowercased()) else {
            throw DatasetError(file: file, reason: .unsupportedFileType(pathExtension: file.pathExtension, supported: supported))
        }
    }

    /// The bytes of `file`.
    static func readBytes(of file: URL) throws(DatasetError) -> Foundation.Data {
        do {
            return try Foundation.Data(contentsOf: file)
        } catch {
            throw DatasetError(file: file, reason: .unreadableFile(error.localizedDescription))
        }
    }

    private static func parseObject(_ bytes: Foundation.Data, file: URL, line: Int) -> Result<[String: Any], DatasetError> {
        guard String(data: bytes, encoding: .utf8) != nil else {
            return .failure(DatasetError(file: file, line: line, reason: .invalidUTF8))
        }
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed])
        } catch {
            let message = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            return .failure(DatasetError(file: file, line: line, reason: .invalidJSON(message)))
        }
        guard let object = value as? [String: Any] else {
            return .failure(DatasetError(file: file, line: line, reason: .notAnObject))
        }
        return .success(object)
    }
}

/// The columns of one row of a JSON-lines file, read with errors that name the file, the line and the column.
struct RowColumns {
    let file: URL
    let line: Int
    let object: [String: Any]

    /// The string in `column`.
    /// - Throws: `missingColumn`, or `textNotString` for another JSON type.
    func string(_ column: String) throws(DatasetError) -> String {
        guard let value = object[column] else {
            throw error(column: column, reason: .missingColumn)
        }
        guard let text = value as? String else {
            throw error(column: column, reason: .textNotString(found: ClassificationRowDecoder.jsonTypeName(value)))
        }
        return text
    }

    /// The string in `column`, which must hold something other than whitespace.
    /// - Throws: as `string(_:)`, and `emptyText`.
    func nonEmptyString(_ column: String) throws(DatasetError) -> String {
        let text = try string(column)
        if text.allSatisfy(\.isWhitespace) {
            throw error(column: column, reason: .emptyText)
        }
        return text
    }

    /// The conversation in `column`: a non-empty list of objects, each with string `role` and `content` (other
    /// keys are ignored).
    /// - Throws: `missingColumn`, or `invalidMessages` saying what is wrong and where.
    func messages(_ column: String) throws(DatasetError) -> [ChatMessage] {
        guard let value = object[column] else {
            throw error(column: column, reason: .missingColumn)
        }
        guard let list = value as? [Any] else {
            throw error(column: column, reason: .invalidMessages("the column holds \(ClassificationRowDecoder.jsonTypeName(value))"))
        }
        if list.isEmpty {
            throw error(column: column, reason: .invalidMessages("the list is empty"))
        }
        var messages: [ChatMessage] = []
        for (index, entry) in list.enumerated() {
            guard let message = entry as? [String: Any] else {
                throw error(column: column, reason: .invalidMessages(
                    "message \(index) is \(ClassificationRowDecoder.jsonTypeName(entry)), not an object"))
            }
            var fields: [String] = []
            for key in ["role", "content"] {
                guard let fieldValue = message[key] else {
                    throw error(column: column, reason: .invalidMessages("message \(index) has no \"\(key)\""))
                }
                guard let field = fieldValue as? String else {
                    let found = ClassificationRowDecoder.jsonTypeName(fieldValue)
                    throw error(column: column, reason: .invalidMessages("message \(index) has \"\(key)\" \(found), not a string"))
                }
                fields.append(field)
            }
            messages.append(ChatMessage(role: fields[0], content: fields[1]))
        }
        return messages
    }

    func error(column: String? = nil, reason: DatasetError.Reason) -> DatasetError {
        DatasetError(file: file, line: line, column: column, reason: reason)
    }
}
