import Foundation

/// Turns the cells of one row into a `TextClassificationExample`, or the `DatasetError` that says why it cannot.
/// Shared by the JSON-lines and CSV readers so both apply the same rules to text and labels.
struct ClassificationRowDecoder: Sendable {
    let file: URL
    let textColumn: String
    let labelColumn: String
    let labelMap: LabelMap

    /// A row of a JSON-lines file: `bytes` is the line without its line break.
    func decodeJSONLine(_ bytes: Foundation.Data, line: Int) -> Result<TextClassificationExample, DatasetError> {
        guard String(data: bytes, encoding: .utf8) != nil else {
            return .failure(error(line: line, reason: .invalidUTF8))
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed])
        } catch {
            let message = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            return .failure(self.error(line: line, reason: .invalidJSON(message)))
        }
        guard let row = object as? [String: Any] else {
            return .failure(error(line: line, reason: .notAnObject))
        }
        guard let textValue = row[textColumn] else {
            return .failure(error(line: line, column: textColumn, reason: .missingColumn))
        }
        guard let text = textValue as? String else {
            return .failure(error(line: line, column: textColumn, reason: .textNotString(found: Self.jsonTypeName(textValue))))
        }
        guard let labelValue = row[labelColumn] else {
            return .failure(error(line: line, column: labelColumn, reason: .missingColumn))
        }
        return makeExample(text: text, line: line) { () throws(DatasetError) in try resolveJSONLabel(labelValue, line: line) }
    }

    /// A row of a CSV file, its cells already decoded.
    func decodeCells(text: String, label: String, line: Int) -> Result<TextClassificationExample, DatasetError> {
        makeExample(text: text, line: line) { () throws(DatasetError) in try resolveStringLabel(label, line: line) }
    }

    func error(line: Int?, column: String? = nil, reason: DatasetError.Reason) -> DatasetError {
        DatasetError(file: file, line: line, column: column, reason: reason)
    }

    private func makeExample(
        text: String, line: Int, label: () throws(DatasetError) -> Int
    ) -> Result<TextClassificationExample, DatasetError> {
        if text.allSatisfy(\.isWhitespace) {
            return .failure(error(line: line, column: textColumn, reason: .emptyText))
        }
        do {
            return .success(TextClassificationExample(text: text, label: try label(), line: line))
        } catch {
            return .failure(error)
        }
    }

    /// A JSON label: an integer id of the map (an integral number such as `1.0` counts), or a string.
    private func resolveJSONLabel(_ value: Any, line: Int) throws(DatasetError) -> Int {
        if let string = value as? String {
            return try resolveStringLabel(string, line: line)
        }
        guard let number = value as? NSNumber, !Self.isBoolean(number) else {
            throw error(line: line, column: labelColumn, reason: .invalidLabel(found: Self.jsonTypeName(value)))
        }
        guard let id = Int(exactly: number.doubleValue), number.doubleValue.isFinite else {
            throw error(line: line, column: labelColumn, reason: .invalidLabel(found: "the number \(number)"))
        }
        guard labelMap.contains(id: id) else {
            throw error(line: line, column: labelColumn, reason: .labelNotInMap(String(id), labelNames: labelMap.names))
        }
        return id
    }

    /// A label written as text: a name of the map, else a decimal id of the map.
    private func resolveStringLabel(_ string: String, line: Int) throws(DatasetError) -> Int {
        if let id = labelMap.id(forLabel: string) { return id }
        if let id = Int(string.trimmingCharacters(in: .whitespaces)), labelMap.contains(id: id) { return id }
        throw error(line: line, column: labelColumn, reason: .labelNotInMap("\"\(string)\"", labelNames: labelMap.names))
    }

    /// JSON booleans arrive as `NSNumber`s whose Objective-C type is `c` (char).
    static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    /// How a JSON value is named in messages: "null", "a boolean", "a number", "an array", "an object", "a string".
    static func jsonTypeName(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let number as NSNumber: return isBoolean(number) ? "a boolean" : "a number"
        case is String: return "a string"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "\(type(of: value))"
        }
    }
}
