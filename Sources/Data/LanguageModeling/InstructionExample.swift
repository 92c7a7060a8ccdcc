/// One supervised example: a prompt and the completion the model learns to write after it, as text and as ids.
///
/// The loss covers the completion only: `labels` are `CausalExample.ignoredLabel` over the prompt's ids.
public struct InstructionExample: Sendable, Equatable, Hashable {
    /// The prompt text: the user's template filled in, or the conversation rendered by the chat template up to and
    /// including the header of the assistant's turn (`add_generation_prompt`).
    public var prompt: String
    /// The text tokenised after the prompt: the completion column (for a template), or the rest of the rendered
    /// conversation (for a chat template: the assistant's message and its end-of-turn text). An appended
    /// end-of-sequence id is not part of it.
    public var completion: String
    /// The prompt's ids, after truncation: the ids a generation from this prompt starts with. Shape [promptLength].
    public var promptIDs: [Int32]
    /// The completion's ids after truncation, ending with the end-of-sequence id unless cut. Shape [completionLength].
    public var completionIDs: [Int32]
    /// Whether truncation cut the prompt or the completion.
    public var isTruncated: Bool
    /// 1-based line on which the row starts in its file; nil for examples built in memory.
    public var line: Int?

    /// An example from its parts.
    public init(
        prompt: String, completion: String, promptIDs: [Int32], completionIDs: [Int32], isTruncated: Bool = false,
        line: Int? = nil
    ) {
        self.prompt = prompt
        self.completion = completion
        self.promptIDs = promptIDs
        self.completionIDs = completionIDs
        self.isTruncated = isTruncated
        self.line = line
    }

    /// The prompt's ids followed by the completion's. Shape [length].
    public var inputIDs: [Int32] { promptIDs + completionIDs }

    /// `ignoredLabel` over the prompt, the completion's ids over the completion. Shape [length].
    public var labels: [Int32] {
        [Int32](repeating: CausalExample.ignoredLabel, count: promptIDs.count) + completionIDs
    }

    /// The example as a training sequence.
    public var causalExample: CausalExample { CausalExample(inputIDs: inputIDs, labels: labels) }

    /// Number of tokens, prompt and completion together.
    public var length: Int { promptIDs.count + completionIDs.count }
}
