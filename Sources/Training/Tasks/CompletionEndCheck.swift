import Data
import Models

/// Whether a model stops where supervised fine-tuning taught it to: greedy completions of the
/// validation prompts, counted by whether they end with the end-of-sequence token that every
/// training completion ended with (rather than running on to the token limit).
public struct CompletionEndCheck: Sendable, Equatable {
    /// Completions that ended with the end-of-sequence token.
    public let ended: Int
    /// Prompts completed.
    public let total: Int

    public init(ended: Int, total: Int) {
        self.ended = ended
        self.total = total
    }

    /// Completes the prompts of the first `count` validation examples (the unscored prefix of each,
    /// which is the prompt in a supervised example), greedily, up to `maxNewTokens` tokens each.
    /// Nil when there is no validation data, no end-of-sequence token, or the examples have no
    /// prompt (a corpus, scored on every token).
    public static func run(_ task: CausalLanguageModelTask, count: Int, maxNewTokens: Int) throws -> CompletionEndCheck? {
        guard let examples = task.validationExamples, let eos = task.languageModel.tokenizer.eosTokenID else { return nil }
        let prompts = examples.lazy.compactMap(\.promptIDs).prefix(count)
        guard !prompts.isEmpty else { return nil }
        let config = GenerationConfig(maxNewTokens: maxNewTokens, eosTokenIDs: [Int32(eos)])
        var ended = 0, total = 0
        for prompt in prompts {
            let result = try task.languageModel.generate(prompt: prompt, config: config)
            if case .endOfSequence = result.stopReason { ended += 1 }
            total += 1
        }
        return CompletionEndCheck(ended: ended, total: total)
    }
}

extension CausalExample {
    /// The ids before the first scored position (a supervised example's prompt); nil when the
    /// first position is scored (a corpus) or none is.
    var promptIDs: [Int32]? {
        guard let first = labels.firstIndex(where: { $0 != Self.ignoredLabel }), first > 0 else { return nil }
        return Array(inputIDs[..<first])
    }
}
