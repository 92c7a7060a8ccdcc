import Tokenizers

/// Tokenises a prompt and its completion(s) for supervised and preference training, with the rules every
/// prompt/completion dataset here shares.
///
/// **Prompt.** Its ids are the tokenizer's leading special tokens (with `addsSpecialTokens`: the ids its
/// post-processor puts before a text, e.g. a BOS id for Llama; none for SmolLM2) followed by the prompt's text
/// tokenised without special tokens. These are exactly the ids a generation from the prompt starts with.
///
/// **Completion.** As transformers/TRL do, prompt + completion is tokenised as one text, and the completion's ids are
/// what follows the prompt's ids. When that joint tokenisation does not start with exactly the prompt's ids (a token
/// straddles the boundary: a prompt ending in `"A: "` followed by `"Paris"` tokenises jointly as `"A", ":", " Paris"`),
/// the completion is tokenised on its own instead. Either way the example starts with exactly the prompt's ids, the
/// prompt labels are masked over exactly those, and the ids decode to prompt + completion. With
/// `appendsEndOfSequence`, the end-of-sequence id follows the completion so that the model learns to stop.
///
/// **Length.** `truncation`, if given, cuts the result as `CompletionTruncation` describes; the leading special
/// tokens stay at the start of a prompt cut from its start.
public struct PromptCompletionEncoder: Sendable {
    /// The tokenizer.
    public let tokenizer: any Tokenizer
    /// The length rule; nil keeps every example whole.
    public let truncation: CompletionTruncation?
    /// Whether the prompt starts with the tokenizer's leading special tokens (false for text a chat template
    /// rendered, which writes its own).
    public let addsSpecialTokens: Bool
    /// Whether the end-of-sequence id follows each completion (false for text a chat template rendered, which ends
    /// the assistant's turn itself).
    public let appendsEndOfSequence: Bool
    /// The ids the tokenizer's post-processor puts before a text (empty without `addsSpecialTokens`).
    public let leadingIDs: [Int32]
    private let endOfSequenceID: Int32?

    /// A prompt and its completions after truncation.
    struct EncodedRow: Sendable {
        /// The prompt's ids, shared by every completion.
        var promptIDs: [Int32]
        /// Each completion's ids, in the order given.
        var completionIDs: [[Int32]]
        /// Whether truncation cut the prompt or a completion.
        var isTruncated: Bool
        /// Whether a token straddled the boundary of some completion, so it was tokenised on its own.
        var tokenizedSeparately: Bool
    }

    /// An encoder with the given rules.
    /// - Precondition: with `appendsEndOfSequence`, the tokenizer has an end-of-sequence id.
    public init(
        tokenizer: any Tokenizer, truncation: CompletionTruncation?, addsSpecialTokens: Bool = true,
        appendsEndOfSequence: Bool = true
    ) {
        precondition(!appendsEndOfSequence || tokenizer.eosTokenID != nil, "the tokenizer has no end-of-sequence id")
        self.tokenizer = tokenizer
        self.truncation = truncation
        self.addsSpecialTokens = addsSpecialTokens
        self.appendsEndOfSequence = appendsEndOfSequence
        self.endOfSequenceID = tokenizer.eosTokenID.map { Int32($0) }
        self.leadingIDs = addsSpecialTokens ? Self.leadingSpecialIDs(of: tokenizer) : []
    }

    /// The prompt's ids: `leadingIDs`, then the text without special tokens. Shape [promptLength].
    public func promptIDs(_ prompt: String) -> [Int32] {
        leadingIDs + ids(prompt)
    }

    /// A supervised example of `prompt` and `completion`, or nil when truncation leaves no completion token.
    public func encode(prompt: String, completion: String, line: Int? = nil) -> InstructionExample? {
        guard let row = encode(prompt: prompt, completions: [completion]) else { return nil }
        return InstructionExample(
            prompt: prompt, completion: completion, promptIDs: row.promptIDs, completionIDs: row.completionIDs[0],
            isTruncated: row.isTruncated, line: line)
    }

    /// A preference pair of `prompt` and the completions `chosen` and `rejected` (each tokenised after the prompt,
    /// as given), or nil when truncation leaves no token of one of them.
    public func encode(prompt: String, chosen: String, rejected: String, line: Int? = nil) -> PreferenceExample? {
        guard let row = encode(prompt: prompt, completions: [chosen, rejected]) else { return nil }
        return PreferenceExample(
            prompt: prompt, chosen: chosen, rejected: rejected, promptIDs: row.promptIDs,
            chosenIDs: row.completionIDs[0], rejectedIDs: row.completionIDs[1], isTruncated: row.isTruncated, line: line)
    }

    /// The prompt's ids and each completion's (all after the same prompt), truncated together so that they keep the
    /// same prompt (the longest completion decides how much of the prompt is kept); nil when truncation leaves no
    /// token of some completion.
    func encode(prompt: String, completions: [String]) -> EncodedRow? {
        let fullPrompt = promptIDs(prompt)
        var fullCompletions: [[Int32]] = []
        var tokenizedSeparately = false
        for completion in completions {
            let (ids, separately) = encodeCompletion(completion, after: prompt, promptIDs: fullPrompt)
            fullCompletions.append(ids)
            tokenizedSeparately = tokenizedSeparately || separately
        }
        guard let truncation else {
            if fullCompletions.contains(where: \.isEmpty) { return nil }
            return EncodedRow(
                promptIDs: fullPrompt, completionIDs: fullCompletions, isTruncated: false,
                tokenizedSeparately: tokenizedSeparately)
        }
        let longest = fullCompletions.map(\.count).max() ?? 0
        let keptPromptLength = truncation.keptLengths(promptLength: fullPrompt.count, completionLength: longest).prompt
        let room = Swift.max(0, truncation.maxLength - keptPromptLength)
        let keptCompletions = fullCompletions.map { Array($0.prefix(room)) }
        if keptCompletions.contains(where: \.isEmpty) { return nil }
        let isTruncated = keptPromptLength < fullPrompt.count || longest > room
        return EncodedRow(
            promptIDs: keepingEnd(of: fullPrompt, count: keptPromptLength), completionIDs: keptCompletions,
            isTruncated: isTruncated, tokenizedSeparately: tokenizedSeparately)
    }

    /// The completion's ids after `promptIDs` (end-of-sequence id included when appended), and whether it had to be
    /// tokenised on its own.
    public func encodeCompletion(_ completion: String, after prompt: String, promptIDs: [Int32]) -> (ids: [Int32], separately: Bool) {
        let joint = leadingIDs + ids(prompt + completion)
        var completionIDs: [Int32]
        let separately: Bool
        if joint.count >= promptIDs.count && joint.starts(with: promptIDs) {
            completionIDs = Array(joint[promptIDs.count...])
            separately = false
        } else {
            completionIDs = ids(completion)
            separately = true
        }
        if appendsEndOfSequence, let endOfSequenceID { completionIDs.append(endOfSequenceID) }
        return (completionIDs, separately)
    }

    /// The last `count` ids of a prompt, except that its leading special tokens stay first.
    private func keepingEnd(of prompt: [Int32], count: Int) -> [Int32] {
        if count >= prompt.count { return prompt }
        let leading = prompt.starts(with: leadingIDs) ? Swift.min(leadingIDs.count, count) : 0
        return Array(prompt.prefix(leading)) + Array(prompt.suffix(count - leading))
    }

    private func ids(_ text: String) -> [Int32] {
        tokenizer.encode(text, addSpecialTokens: false, truncation: nil).map { Int32($0) }
    }

    /// The ids the tokenizer's post-processor puts before a text: those before the text's own ids when a probe text
    /// is encoded with special tokens.
    private static func leadingSpecialIDs(of tokenizer: any Tokenizer) -> [Int32] {
        let probe = "a"
        let plain = tokenizer.encode(probe, addSpecialTokens: false, truncation: nil)
        let framed = tokenizer.encode(probe, addSpecialTokens: true, truncation: nil)
        guard !plain.isEmpty, framed.count >= plain.count else { return [] }
        for start in 0...(framed.count - plain.count) where framed[start..<(start + plain.count)].elementsEqual(plain) {
            return framed[..<start].map { Int32($0) }
        }
        return []
    }
}
