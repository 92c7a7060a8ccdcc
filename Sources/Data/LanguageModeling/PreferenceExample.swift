/// One preference pair: a prompt and two completions of it, the one people preferred (`chosen`) and the other
/// (`rejected`), as text and as ids. Both sequences start with the same prompt ids.
public struct PreferenceExample: Sendable, Equatable, Hashable {
    /// The prompt text.
    public var prompt: String
    /// The text tokenised after the prompt for the preferred completion (the separator, then the chosen column).
    public var chosen: String
    /// The text tokenised after the prompt for the other completion (the separator, then the rejected column).
    public var rejected: String
    /// The prompt's ids after truncation, shared by both sequences. Shape [promptLength].
    public var promptIDs: [Int32]
    /// The preferred completion's ids after truncation, ending with the end-of-sequence id unless cut.
    /// Shape [chosenLength].
    public var chosenIDs: [Int32]
    /// The other completion's ids after truncation, ending with the end-of-sequence id unless cut.
    /// Shape [rejectedLength].
    public var rejectedIDs: [Int32]
    /// Whether truncation cut the prompt or a completion.
    public var isTruncated: Bool
    /// 1-based line on which the row starts in its file; nil for examples built in memory.
    public var line: Int?

    /// A pair from its parts.
    public init(
        prompt: String, chosen: String, rejected: String, promptIDs: [Int32], chosenIDs: [Int32], rejectedIDs: [Int32],
        isTruncated: Bool = false, line: Int? = nil
    ) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
        self.promptIDs = promptIDs
        self.chosenIDs = chosenIDs
        self.rejectedIDs = rejectedIDs
        self.isTruncated = isTruncated
        self.line = line
    }

    /// Number of prompt tokens at the start of both sequences.
    public var promptLength: Int { promptIDs.count }

    /// Prompt + chosen completion, scored on the completion only.
    public var chosenExample: CausalExample {
        CausalExample(inputIDs: promptIDs + chosenIDs, unscoredPrefixLength: promptIDs.count)
    }

    /// Prompt + rejected completion, scored on the completion only.
    public var rejectedExample: CausalExample {
        CausalExample(inputIDs: promptIDs + rejectedIDs, unscoredPrefixLength: promptIDs.count)
    }
}
