import Foundation

/// Labelled texts for sequence classification, loaded from a JSON-lines or CSV file.
///
/// Every example's label is an id of `labelMap`. Rows that cannot be used either stop the load (`BadRowPolicy.fail`)
/// or are left out and listed in `skippedRows` (`BadRowPolicy.skip`).
public struct TextClassificationDataset: Sendable, RandomAccessCollection {
    /// The examples, in file order.
    public let examples: [TextClassificationExample]
    /// Names and ids of the labels.
    public let labelMap: LabelMap
    /// The file the examples came from, if any.
    public let source: URL?
    /// The rows left out under `BadRowPolicy.skip`, each with its reason, in file order.
    public let skippedRows: [DatasetError]

    /// A dataset of in-memory examples.
    /// - Precondition: every label is an id of `labelMap`.
    public init(examples: [TextClassificationExample], labelMap: LabelMap, source: URL? = nil, skippedRows: [DatasetError] = []) {
        precondition(examples.allSatisfy { labelMap.contains(id: $0.label) }, "every label must be an id of the label map")
        self.examples = examples
        self.labelMap = labelMap
        self.source = source
        self.skippedRows = skippedRows
    }

    /// Loads a dataset from `url`, a JSON-lines (`.jsonl`, `.ndjson`) or CSV (`.csv`, with a header row) file.
    ///
    /// Each row's text is the string in `textColumn`; it must not be empty or only whitespace. Its label, in
    /// `labelColumn`, is a JSON integer that is an id of `labelMap`, or a string that is one of its names or an id
    /// written in decimal (CSV cells are always strings). Blank lines are ignored.
    ///
    /// - Parameters:
    ///   - format: the file's format; nil infers it from the extension.
    /// - Throws: `DatasetError` naming the file, line and column: for an unreadable file or unknown format, a
    ///   missing CSV header or header column, an unterminated CSV quote, any bad row under `.fail`, and a dataset
    ///   with no rows left.
    public static func load(
        from url: URL,
        textColumn: String = "text",
        labelColumn: String = "label",
        labelMap: LabelMap,
        badRows: BadRowPolicy = .fail,
        format: DatasetFileFormat? = nil
    ) throws(DatasetError) -> TextClassificationDataset {
        guard let format = format ?? DatasetFileFormat(pathExtensionOf: url) else {
            throw DatasetError(file: url, reason: .unsupportedFormat(pathExtension: url.pathExtension))
        }
        let bytes: Foundation.Data
        do {
            bytes = try Foundation.Data(contentsOf: url)
        } catch {
            throw DatasetError(file: url, reason: .unreadableFile(error.localizedDescription))
        }
        let decoder = ClassificationRowDecoder(file: url, textColumn: textColumn, labelColumn: labelColumn, labelMap: labelMap)
        var examples: [TextClassificationExample] = []
        var skippedRows: [DatasetError] = []
        func accept(_ row: Result<TextClassificationExample, DatasetError>) throws(DatasetError) {
            switch row {
            case .success(let example):
                examples.append(example)
            case .failure(let error):
                if badRows == .fail { throw error }
                skippedRows.append(error)
            }
        }

        switch format {
        case .jsonLines:
            try JSONLinesReader.forEachLine(in: bytes) { (line, lineNumber) throws(DatasetError) in
                try accept(decoder.decodeJSONLine(line, line: lineNumber))
            }
        case .csv:
            try readCSV(bytes, decoder: decoder, accept: accept)
        }

        if examples.isEmpty {
            throw DatasetError(file: url, reason: .emptyDataset)
        }
        return TextClassificationDataset(examples: examples, labelMap: labelMap, source: url, skippedRows: skippedRows)
    }

    private static func readCSV(
        _ bytes: Foundation.Data,
        decoder: ClassificationRowDecoder,
        accept: (Result<TextClassificationExample, DatasetError>) throws(DatasetError) -> Void
    ) throws(DatasetError) {
        let records: [CSVRecord]
        do {
            records = try CSVReader.records(in: bytes)
        } catch {
            throw decoder.error(line: error.line, reason: .unterminatedQuote)
        }
        guard let header = records.first else {
            throw decoder.error(line: nil, reason: .missingHeader)
        }
        var columnNames: [String] = []
        for (index, field) in header.fields.enumerated() {
            guard let name = String(bytes: field, encoding: .utf8) else {
                throw decoder.error(line: header.line, column: "#\(index + 1)", reason: .invalidUTF8)
            }
            columnNames.append(name)
        }
        func columnIndex(_ name: String) throws(DatasetError) -> Int {
            let matches = columnNames.indices.filter { columnNames[$0] == name }
            guard let first = matches.first else {
                throw decoder.error(line: header.line, column: name, reason: .missingColumn)
            }
            guard matches.count == 1 else {
                throw decoder.error(line: header.line, column: name, reason: .duplicateColumn)
            }
            return first
        }
        let textIndex = try columnIndex(decoder.textColumn)
        let labelIndex = try columnIndex(decoder.labelColumn)

        for record in records.dropFirst() {
            if let problem = record.problem {
                try accept(.failure(decoder.error(line: record.line, reason: problem)))
                continue
            }
            guard record.fields.count == columnNames.count else {
                try accept(.failure(decoder.error(
                    line: record.line, reason: .wrongFieldCount(expected: columnNames.count, found: record.fields.count))))
                continue
            }
            guard let text = String(bytes: record.fields[textIndex], encoding: .utf8) else {
                try accept(.failure(decoder.error(line: record.line, column: decoder.textColumn, reason: .invalidUTF8)))
                continue
            }
            guard let label = String(bytes: record.fields[labelIndex], encoding: .utf8) else {
                try accept(.failure(decoder.error(line: record.line, column: decoder.labelColumn, reason: .invalidUTF8)))
                continue
            }
            try accept(decoder.decodeCells(text: text, label: label, line: record.line))
        }
    }

    /// Number of examples.
    public var count: Int { examples.count }
    public var startIndex: Int { 0 }
    public var endIndex: Int { examples.count }
    public subscript(position: Int) -> TextClassificationExample { examples[position] }

    /// Number of examples of each label: `labelCounts[id]`, shape [labelMap.count].
    public var labelCounts: [Int] {
        var counts = [Int](repeating: 0, count: labelMap.count)
        for example in examples { counts[example.label] += 1 }
        return counts
    }

    /// The examples at `indices`, in that order (e.g. a split, or a shuffled order); `skippedRows` are kept.
    public func subset(_ indices: some Sequence<Int>) -> TextClassificationDataset {
        TextClassificationDataset(
            examples: indices.map { examples[$0] }, labelMap: labelMap, source: source, skippedRows: skippedRows)
    }
}
