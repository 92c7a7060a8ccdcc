/// How a prompt and its completion are cut to fit a maximum length, for supervised and preference examples.
///
/// The rule, for a prompt of `p` tokens and a completion of `c` tokens (end-of-sequence id included; for a
/// preference pair, `c` is the longer of the two completions):
/// 1. If `p + c <= maxLength`, nothing is cut.
/// 2. Otherwise the prompt gives up tokens from its **start**, only as many as the whole completion needs, but never
///    going below `maxPromptLength` tokens: it keeps `min(p, max(maxLength - c, maxPromptLength))`. The end of a
///    prompt (the question's last words and the answer cue, such as `"### Response:"` or the assistant header) is
///    what the completion depends on most. With `maxPromptLength` nil the prompt is never cut.
/// 3. The completion then keeps its **first** `maxLength - keptPrompt` tokens (so a cut completion loses its
///    end-of-sequence id: it was not finished).
/// 4. If that leaves no completion token (a prompt that fills `maxLength` by itself), the row has nothing to learn
///    from and is skipped; datasets count such rows.
///
/// This is TRL's `max_length` / `max_prompt_length` with the prompt truncated at its start (`keep_end`).
public struct CompletionTruncation: Sendable, Equatable, Hashable {
    /// The most tokens an example may have, prompt and completion together.
    public var maxLength: Int
    /// The fewest tokens a prompt longer than this is cut down to so that the completion fits; nil never cuts the
    /// prompt.
    public var maxPromptLength: Int?

    /// A rule with the given limits.
    /// - Precondition: `maxLength` is positive and `maxPromptLength`, if given, is not negative.
    public init(maxLength: Int, maxPromptLength: Int? = nil) {
        precondition(maxLength > 0, "maxLength must be positive")
        precondition(maxPromptLength.map { $0 >= 0 } ?? true, "maxPromptLength must not be negative")
        self.maxLength = maxLength
        self.maxPromptLength = maxPromptLength
    }

    /// How many prompt tokens (kept from the prompt's end) and completion tokens (kept from the completion's start)
    /// remain; a completion of 0 means the row is skipped.
    public func keptLengths(promptLength: Int, completionLength: Int) -> (prompt: Int, completion: Int) {
        if promptLength + completionLength <= maxLength {
            return (promptLength, completionLength)
        }
        var prompt = promptLength
        if let maxPromptLength {
            prompt = Swift.min(promptLength, Swift.max(maxLength - completionLength, maxPromptLength))
        }
        let completion = Swift.max(0, Swift.min(completionLength, maxLength - prompt))
        return (prompt, completion)
    }
}
