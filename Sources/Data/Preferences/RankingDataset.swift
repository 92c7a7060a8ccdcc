import Foundation
import Tokenizers

/// Ranked completions for reward models, read from JSON lines in either of two layouts:
/// TRL's explicit-prompt pairs `{"prompt", "chosen", "rejected"}` with an optional numeric
/// `"margin"`, or InstructGPT's K-way rankings `{"prompt", "completions": [...], "ranking": [...]}`
/// (`ranking[i]` is the rank of `completions[i]`, 0 the best). The text of a sequence is prompt +
/// separator + completion + the end-of-sequence id, as TRL prepares it; the completion's ids are
/// what follows the prompt's (`PromptCompletionEncoder`). A row whose longest sequence is longer
/// than `maxLength` is dropped, as TRL's reward trainer drops such pairs, and counted.
public struct RankingDataset: Sendable, RandomAccessCollection {
    public let rows: [RankedCompletions]
    public let source: URL?
    /// Rows left out under `BadRowPolicy.skip`, with the reason of each, in file order.
    public let skippedRows: [DatasetError]
    /// Lines of the rows dropped for a sequence longer than `maxLength`.
    public let linesDroppedForLength: [Int]

    public init(rows: [RankedCompletions], source: URL? = nil, skippedRows: [DatasetError] = [], linesDroppedForLength: [Int] = []) {
        self.rows = rows
        self.source = source
        self.skippedRows = skippedRows
        self.linesDroppedForLength = linesDroppedForLength
    }

    /// A row as read, before tokenisation.
    private struct RowText {
        var prompt: String
        var completions: [String]
        var ranking: [Int]
        var margin: Double
        var line: Int
    }

    /// Loads and tokenises `url` (`.jsonl`), spreading tokenisation over the cores.
    /// - Throws: `DatasetError` naming the file, line and column: a missing column, a completion
    ///   that is empty or not a string, a ranking that is not a permutation of its completions'
    ///   ranks, fewer than two completions, a margin that is not a number (under `.fail`), or no
    ///   rows left.
    /// - Precondition: the tokenizer has an end-of-sequence id.
    public static func load(
        from url: URL, tokenizer: any Tokenizer, separator: String = " ", maxLength: Int? = nil, badRows: BadRowPolicy = .fail
    ) throws(DatasetError) -> RankingDataset {
        let file = try JSONObjectRows.read(url)
        var texts: [RowText] = []
        var skippedRows: [DatasetError] = []
        for row in file.rows {
            do throws(DatasetError) {
                let columns = RowColumns(file: url, line: row.line, object: try row.object.get())
                texts.append(try read(columns, separator: separator))
            } catch {
                if badRows == .fail { throw error }
                skippedRows.append(error)
            }
        }
        let encoder = PromptCompletionEncoder(tokenizer: tokenizer, truncation: nil)
        let encoded = ParallelMap.map(texts) { encoder.encode(prompt: $0.prompt, completions: $0.completions) }
        var rows: [RankedCompletions] = []
        var dropped: [Int] = []
        for (text, row) in zip(texts, encoded) {
            guard let row, maxLength.map({ row.promptIDs.count + (row.completionIDs.map(\.count).max() ?? 0) <= $0 }) ?? true else {
                dropped.append(text.line)
                continue
            }
            rows.append(RankedCompletions(promptIDs: row.promptIDs, completionIDs: row.completionIDs, ranking: text.ranking,
                                          margin: text.margin, line: text.line))
        }
        if rows.isEmpty { throw DatasetError(file: url, reason: .emptyDataset) }
        return RankingDataset(rows: rows, source: url, skippedRows: skippedRows, linesDroppedForLength: dropped)
    }

    /// A row in either layout: a pair is two completions, the chosen one ranked first.
    private static func read(_ columns: RowColumns, separator: String) throws(DatasetError) -> RowText {
        let prompt = try columns.string("prompt")
        if columns.object["completions"] == nil && columns.object["chosen"] != nil {
            let chosen = try columns.nonEmptyString("chosen"), rejected = try columns.nonEmptyString("rejected")
            var margin = 0.0
            if let value = columns.object["margin"] {
                guard let number = value as? NSNumber, !ClassificationRowDecoder.isBoolean(number), number.doubleValue.isFinite else {
                    throw columns.error(column: "margin", reason: .notANumber(found: ClassificationRowDecoder.jsonTypeName(value)))
                }
                margin = number.doubleValue
            }
            return RowText(prompt: prompt, completions: [separator + chosen, separator + rejected], ranking: [0, 1], margin: margin,
                           line: columns.line)
        }
        let completions = try columns.nonEmptyStrings("completions")
        guard completions.count >= 2 else {
            throw columns.error(column: "completions", reason: .invalidRanking("\(completions.count) completion; a ranking needs two or more"))
        }
        let ranking = try columns.ranking("ranking", count: completions.count)
        return RowText(prompt: prompt, completions: completions.map { separator + $0 }, ranking: ranking, margin: 0, line: columns.line)
    }

    public var count: Int { rows.count }
    public var startIndex: Int { 0 }
    public var endIndex: Int { rows.count }
    public subscript(position: Int) -> RankedCompletions { rows[position] }

    /// Number of comparisons over every row.
    public var comparisonCount: Int { rows.reduce(0) { $0 + $1.comparisons.count } }
}

extension RowColumns {
    /// The list of non-empty strings in `column`.
    func nonEmptyStrings(_ column: String) throws(DatasetError) -> [String] {
        guard let value = object[column] else { throw error(column: column, reason: .missingColumn) }
        guard let list = value as? [Any] else {
            throw error(column: column, reason: .textNotString(found: ClassificationRowDecoder.jsonTypeName(value)))
        }
        var texts: [String] = []
        for (index, entry) in list.enumerated() {
            guard let text = entry as? String else {
                throw error(column: column, reason: .textNotString(found: "\(ClassificationRowDecoder.jsonTypeName(entry)) at index \(index)"))
            }
            if text.allSatisfy(\.isWhitespace) { throw error(column: "\(column)[\(index)]", reason: .emptyText) }
            texts.append(text)
        }
        return texts
    }

    /// The ranks in `column`: `count` whole numbers forming a permutation of 0..<count.
    func ranking(_ column: String, count: Int) throws(DatasetError) -> [Int] {
        guard let value = object[column] else { throw error(column: column, reason: .missingColumn) }
        let isWholeNumber = { (entry: Any) -> Bool in
            guard let number = entry as? NSNumber, !ClassificationRowDecoder.isBoolean(number) else { return false }
            return number.doubleValue == number.doubleValue.rounded() && abs(number.doubleValue) < 1e9
        }
        guard let list = value as? [Any], list.allSatisfy(isWholeNumber) else {
            throw error(column: column, reason: .invalidRanking("expected a list of whole numbers, found \(ClassificationRowDecoder.jsonTypeName(value))"))
        }
        let ranks = list.map { ($0 as! NSNumber).intValue }
        guard ranks.count == count else {
            throw error(column: column, reason: .invalidRanking("\(ranks.count) ranks for \(count) completions"))
        }
        guard ranks.sorted() == Array(0..<count) else {
            throw error(column: column, reason: .invalidRanking("\(ranks) is not a permutation of 0...\(count - 1)"))
        }
        return ranks
    }
}
