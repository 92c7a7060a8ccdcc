import Foundation
import Tokenizers

/// Preference pairs for reward-model (or DPO-style) training, loaded from a JSON-lines file with a prompt column
/// and two completion columns, the preferred (`chosen`) and the other (`rejected`), and tokenised.
///
/// Each pair's sequences are prompt + separator + chosen and prompt + separator + rejected, each followed by the
/// end-of-sequence id, tokenised as `PromptCompletionEncoder` describes so that both start with exactly the same
/// prompt ids. `CompletionTruncation` cuts both with the same kept prompt (the longer completion decides). Rows that
/// cannot be used stop the load (`BadRowPolicy.fail`) or are listed in `skippedRows` (`BadRowPolicy.skip`); rows
/// where truncation would remove a completion entirely are always left out and listed in `linesSkippedForLength`.
public struct PreferenceDataset: Sendable, RandomAccessCollection {
    /// The pairs, in file order.
    public let examples: [PreferenceExample]
    /// The file the pairs came from, if any.
    public let source: URL?
    /// The rows left out under `BadRowPolicy.skip`, each with its reason, in file order.
    public let skippedRows: [DatasetError]
    /// The lines of the rows left out because truncation left no token of a completion, in file order.
    public let linesSkippedForLength: [Int]

    /// A dataset of in-memory pairs.
    public init(
        examples: [PreferenceExample], source: URL? = nil, skippedRows: [DatasetError] = [],
        linesSkippedForLength: [Int] = []
    ) {
        self.examples = examples
        self.source = source
        self.skippedRows = skippedRows
        self.linesSkippedForLength = linesSkippedForLength
    }

    /// Loads and tokenises the rows of `url`, a JSON-lines file (`.jsonl`, `.ndjson`; blank lines are ignored).
    ///
    /// The chosen and rejected strings must hold something other than whitespace; the prompt may be empty.
    /// Tokenisation is spread over the processor's cores.
    ///
    /// - Parameters:
    ///   - separator: text put between the prompt and each completion (e.g. `" "` for HH-RLHF, whose prompts end in
    ///     `"Assistant:"` and whose completions were stripped); it is part of the completion's text and ids.
    ///   - truncation: the length rule; nil keeps every pair whole.
    /// - Throws: `DatasetError` naming the file, line and column: for another extension, an unreadable file, any bad
    ///   row under `.fail` (not JSON, not an object, a missing column, a value that is not a string, an empty
    ///   completion), and a dataset with no pairs left.
    /// - Precondition: the tokenizer has an end-of-sequence id.
    public static func load(
        from url: URL,
        tokenizer: any Tokenizer,
        promptColumn: String = "prompt",
        chosenColumn: String = "chosen",
        rejectedColumn: String = "rejected",
        separator: String = "",
        truncation: CompletionTruncation? = nil,
        badRows: BadRowPolicy = .fail
    ) throws(DatasetError) -> PreferenceDataset {
        let file = try JSONObjectRows.read(url)
        var texts: [(prompt: String, chosen: String, rejected: String, line: Int)] = []
        var skippedRows: [DatasetError] = []
        for row in file.rows {
            do throws(DatasetError) {
                let columns = RowColumns(file: url, line: row.line, object: try row.object.get())
                let prompt = try columns.string(promptColumn)
                let chosen = try columns.nonEmptyString(chosenColumn)
                let rejected = try columns.nonEmptyString(rejectedColumn)
                texts.append((prompt, separator + chosen, separator + rejected, row.line))
            } catch {
                if badRows == .fail { throw error }
                skippedRows.append(error)
            }
        }

        let encoder = PromptCompletionEncoder(tokenizer: tokenizer, truncation: truncation)
        let rows = texts.map { [$0.prompt, $0.chosen, $0.rejected] }
        let encoded = ParallelMap.map(rows) { row in encoder.encode(prompt: row[0], chosen: row[1], rejected: row[2]) }
        var examples: [PreferenceExample] = []
        var linesSkippedForLength: [Int] = []
        for (text, example) in zip(texts, encoded) {
            guard var example else {
                linesSkippedForLength.append(text.line)
                continue
            }
            example.line = text.line
            examples.append(example)
        }
        if examples.isEmpty {
            throw DatasetError(file: url, reason: .emptyDataset)
        }
        return PreferenceDataset(
            examples: examples, source: url, skippedRows: skippedRows, linesSkippedForLength: linesSkippedForLength)
    }

    /// Number of pairs.
    public var count: Int { examples.count }
    public var startIndex: Int { 0 }
    public var endIndex: Int { examples.count }
    public subscript(position: Int) -> PreferenceExample { examples[position] }

    /// Number of pairs that truncation cut.
    public var truncatedCount: Int { examples.reduce(0) { $0 + ($1.isTruncated ? 1 : 0) } }

    /// The pairs at `indices`, in that order (e.g. a split, or a shuffled order); the skip records are kept.
    public func subset(_ indices: some Sequence<Int>) -> PreferenceDataset {
        PreferenceDataset(
            examples: indices.map { examples[$0] }, source: source, skippedRows: skippedRows,
            linesSkippedForLength: linesSkippedForLength)
    }
}
