import Foundation
import Tokenizers

/// Prompt/completion pairs for supervised fine-tuning of a decoder language model (instruction tuning), loaded from
/// a JSON-lines file and tokenised, with the loss on the completion only.
///
/// A row becomes a prompt and a completion as its `PromptFormat` says: a prompt template written by the user
/// (`{column}` placeholders), or the model's chat template over a prompt/completion pair or over a list of messages.
/// `PromptCompletionEncoder` describes how they are tokenised and `CompletionTruncation` how they are cut to a
/// maximum length. Rows that cannot be used stop the load (`BadRowPolicy.fail`) or are listed in `skippedRows`
/// (`BadRowPolicy.skip`); rows whose completion truncation would remove entirely are always left out and listed in
/// `linesSkippedForLength`.
public struct InstructionDataset: Sendable, RandomAccessCollection {
    /// The examples, in file order.
    public let examples: [InstructionExample]
    /// The file the examples came from, if any.
    public let source: URL?
    /// The rows left out under `BadRowPolicy.skip`, each with its reason, in file order.
    public let skippedRows: [DatasetError]
    /// The lines of the rows left out because truncation left no completion token, in file order.
    public let linesSkippedForLength: [Int]
    /// Number of examples whose completion was tokenised on its own because a token straddled the prompt/completion
    /// boundary (see `PromptCompletionEncoder`).
    public let separatelyTokenizedCount: Int

    /// A dataset of in-memory examples.
    public init(
        examples: [InstructionExample], source: URL? = nil, skippedRows: [DatasetError] = [],
        linesSkippedForLength: [Int] = [], separatelyTokenizedCount: Int = 0
    ) {
        self.examples = examples
        self.source = source
        self.skippedRows = skippedRows
        self.linesSkippedForLength = linesSkippedForLength
        self.separatelyTokenizedCount = separatelyTokenizedCount
    }

    /// Loads and tokenises the rows of `url`, a JSON-lines file (`.jsonl`, `.ndjson`; blank lines are ignored).
    ///
    /// The completion (or, for `chatMessages`, the last message's content) must hold something other than
    /// whitespace; other columns may be empty. A chat template sees the tokenizer's BOS and EOS token strings as
    /// `bos_token` and `eos_token`. Tokenisation is spread over the processor's cores.
    ///
    /// - Parameters:
    ///   - format: how a row becomes a prompt and a completion.
    ///   - truncation: the length rule; nil keeps every example whole.
    /// - Throws: `DatasetError` naming the file, line and column: for another extension, an unreadable file, a
    ///   template placeholder that names a column no row has (`unknownPlaceholder`, whatever `badRows` says), any bad
    ///   row under `.fail` (not JSON, not an object, a missing column, a value that is not a string, an empty
    ///   completion, a malformed conversation, a chat template that fails), and a dataset with no examples left.
    /// - Precondition: for a `template` format, the tokenizer has an end-of-sequence id.
    public static func load(
        from url: URL,
        format: PromptFormat,
        tokenizer: any Tokenizer,
        truncation: CompletionTruncation? = nil,
        badRows: BadRowPolicy = .fail
    ) throws(DatasetError) -> InstructionDataset {
        let file = try JSONObjectRows.read(url)
        if case .template(let template, _) = format {
            try checkPlaceholders(of: template, in: file)
        }
        let specialTokens = ChatSpecialTokens(tokenizer: tokenizer)
        var texts: [(prompt: String, completion: String, line: Int)] = []
        var skippedRows: [DatasetError] = []
        for row in file.rows {
            do throws(DatasetError) {
                let columns = RowColumns(file: url, line: row.line, object: try row.object.get())
                let (prompt, completion) = try promptAndCompletion(of: columns, format: format, specialTokens: specialTokens)
                texts.append((prompt, completion, row.line))
            } catch {
                if badRows == .fail { throw error }
                skippedRows.append(error)
            }
        }

        let encoder = PromptCompletionEncoder(
            tokenizer: tokenizer, truncation: truncation, addsSpecialTokens: format.isPlainText,
            appendsEndOfSequence: format.isPlainText)
        let pairs = texts.map { [$0.prompt, $0.completion] }
        let encoded = ParallelMap.map(pairs) { pair in encoder.encode(prompt: pair[0], completions: [pair[1]]) }
        var examples: [InstructionExample] = []
        var linesSkippedForLength: [Int] = []
        var separatelyTokenizedCount = 0
        for (text, row) in zip(texts, encoded) {
            guard let row else {
                linesSkippedForLength.append(text.line)
                continue
            }
            if row.tokenizedSeparately { separatelyTokenizedCount += 1 }
            examples.append(InstructionExample(
                prompt: text.prompt, completion: text.completion, promptIDs: row.promptIDs,
                completionIDs: row.completionIDs[0], isTruncated: row.isTruncated, line: text.line))
        }
        if examples.isEmpty {
            throw DatasetError(file: url, reason: .emptyDataset)
        }
        return InstructionDataset(
            examples: examples, source: url, skippedRows: skippedRows, linesSkippedForLength: linesSkippedForLength,
            separatelyTokenizedCount: separatelyTokenizedCount)
    }

    /// Number of examples.
    public var count: Int { examples.count }
    public var startIndex: Int { 0 }
    public var endIndex: Int { examples.count }
    public subscript(position: Int) -> InstructionExample { examples[position] }

    /// The examples as training sequences (loss on the completions only), in order.
    public var causalExamples: [CausalExample] { examples.map(\.causalExample) }

    /// Number of examples that truncation cut.
    public var truncatedCount: Int { examples.reduce(0) { $0 + ($1.isTruncated ? 1 : 0) } }

    /// The examples at `indices`, in that order (e.g. a split, or a shuffled order); the skip records are kept.
    public func subset(_ indices: some Sequence<Int>) -> InstructionDataset {
        InstructionDataset(
            examples: indices.map { examples[$0] }, source: source, skippedRows: skippedRows,
            linesSkippedForLength: linesSkippedForLength, separatelyTokenizedCount: separatelyTokenizedCount)
    }

    /// Throws for the first placeholder of `template` that names a column no row of `file` has (a misspelt column
    /// rather than a row that lacks one). Nothing is checked when no row is a JSON object.
    private static func checkPlaceholders(of template: PromptTemplate, in file: JSONObjectRows) throws(DatasetError) {
        let columns = file.columnNames
        if columns.isEmpty { return }
        for placeholder in template.placeholders where !columns.contains(placeholder) {
            throw DatasetError(
                file: file.file, column: placeholder,
                reason: .unknownPlaceholder(template: template.source, columns: columns))
        }
    }

    /// The prompt and completion texts of one row.
    private static func promptAndCompletion(
        of columns: RowColumns, format: PromptFormat, specialTokens: ChatSpecialTokens
    ) throws(DatasetError) -> (prompt: String, completion: String) {
        switch format {
        case .template(let template, let completionColumn):
            let prompt = try template.render { name throws(DatasetError) in try columns.string(name) }
            return (prompt, try columns.nonEmptyString(completionColumn))
        case .chat(let template, let promptColumn, let completionColumn, let systemPrompt):
            let user = try columns.string(promptColumn)
            let assistant = try columns.nonEmptyString(completionColumn)
            var messages = systemPrompt.map { [ChatMessage(role: "system", content: $0)] } ?? []
            messages.append(ChatMessage(role: "user", content: user))
            return try ChatRendering.split(
                context: messages, reply: ChatMessage(role: "assistant", content: assistant), template: template,
                specialTokens: specialTokens, columns: columns, column: nil)
        case .chatMessages(let template, let messagesColumn):
            let messages = try columns.messages(messagesColumn)
            let last = messages[messages.count - 1]
            guard last.role == "assistant" else {
                throw columns.error(
                    column: messagesColumn,
                    reason: .invalidMessages("the last message is from \"\(last.role)\", not from the assistant"))
            }
            if last.content.allSatisfy(\.isWhitespace) {
                throw columns.error(column: messagesColumn, reason: .emptyText)
            }
            return try ChatRendering.split(
                context: Array(messages.dropLast()), reply: last, template: template, specialTokens: specialTokens,
                columns: columns, column: messagesColumn)
        }
    }
}
