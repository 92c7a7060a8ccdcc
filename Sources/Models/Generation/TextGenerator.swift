import Foundation
import Tensors

/// Continues a prompt of token ids with a causal language model, as transformers' `generate`
/// does for one sequence: the prompt goes through the model in one forward pass that fills a
/// key/value cache, then each new token is fed alone at the next position, so a step costs one
/// token's work whatever the length so far. Each step's scores (V) are penalised for repeats,
/// then a token is chosen greedily or sampled (`GenerationConfig`), handed to the `onToken`
/// callback, and checked against the end-of-sequence ids and stop strings.
///
/// Text is not needed: stop strings are compared with the output of a `decode` function the
/// caller passes (a tokenizer's decoder). A generator is not meant for use from several threads at
/// once.
///
/// ```swift
/// let generator = TextGenerator(model: model)
/// let result = try generator.generate(prompt: ids, config: GenerationConfig(maxNewTokens: 64)) { id in
///     // stream `id`
/// }
/// ```
public final class TextGenerator {
    public let model: any CausalLanguageModel

    public init(model: any CausalLanguageModel) {
        self.model = model
    }

    /// Generates up to `config.maxNewTokens` ids after `prompt`.
    ///
    /// - Parameters:
    ///   - prompt: the token ids to continue (at least one, each inside the vocabulary).
    ///   - config: decoding settings; its `eosTokenIDs` default to the model's.
    ///   - decode: turns new ids into text; needed for `stopStrings`, and gives `GenerationResult.text`.
    ///   - onToken: called with every new id as soon as it is chosen (for streaming).
    /// - Throws: `GenerationError` for an empty prompt, an id outside the vocabulary, a setting out
    ///   of range, or stop strings without `decode`.
    public func generate(
        prompt: [Int32], config: GenerationConfig, decode: (([Int32]) -> String)? = nil,
        onToken: ((Int32) -> Void)? = nil
    ) throws -> GenerationResult {
        try config.validate()
        guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
        let vocabularySize = model.vocabularySize
        if let position = prompt.firstIndex(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw GenerationError.idOutOfVocabulary(position: position, id: prompt[position], vocabularySize: vocabularySize)
        }
        if !config.stopStrings.isEmpty && decode == nil { throw GenerationError.stopStringsWithoutDecoder }

        let endOfSequence = config.eosTokenIDs ?? Set(model.config.eosTokenIDs.map { Int32($0) })
        let matcher = StopStringMatcher(stopStrings: config.stopStrings)
        var penalty = RepetitionPenalty(penalty: config.repetitionPenalty, vocabularySize: vocabularySize)
        if config.repetitionPenalty != 1 { penalty.record(contentsOf: prompt) }
        var sampler = Sampler(config: config)
        let clock = ContinuousClock()
        let start = clock.now
        var firstTokenTime = start

        var newIDs: [Int32] = []
        newIDs.reserveCapacity(config.maxNewTokens)
        var stopReason = GenerationResult.StopReason.maxNewTokens
        // The steps of one token, with int8 activations when asked for.
        func step(_ ids: [Int32], cache: KeyValueCache) -> Tensor {
            guard config.int8Activations else { return model.forward(ids: ids, cache: cache) }
            return ActivationQuantization.withInt8Activations { model.forward(ids: ids, cache: cache) }
        }
        if config.maxNewTokens > 0 {
            let cache = model.makeCache(batchSize: 1)
            var scores = model.forward(ids: prompt, cache: cache)  // (1, V)
            while true {
                penalty.apply(to: scores.buffer)
                let next = sampler.nextToken(scores: scores.buffer)
                newIDs.append(next)
                if newIDs.count == 1 { firstTokenTime = clock.now }
                onToken?(next)
                if config.repetitionPenalty != 1 { penalty.record(next) }
                if endOfSequence.contains(next) {
                    stopReason = .endOfSequence(next)
                    break
                }
                if !matcher.stopStrings.isEmpty, let decode, let match = matcher.firstMatch(in: decode(newIDs)) {
                    stopReason = .stopString(match.stopString)
                    break
                }
                if newIDs.count == config.maxNewTokens { break }
                if config.useCache {
                    scores = step([next], cache: cache)  // (1, V): only the new token's work
                } else {
                    cache.reset()
                    scores = model.forward(ids: prompt + newIDs, cache: cache)  // (1, V): the whole sequence again
                }
            }
        }
        let end = clock.now
        let text = decode.map { matcher.textBeforeStop($0(newIDs)) }
        return GenerationResult(
            newIDs: newIDs, stopReason: stopReason, text: text, promptLength: prompt.count,
            prefillSeconds: Self.seconds(firstTokenTime - start), decodeSeconds: Self.seconds(end - firstTokenTime))
    }

    private static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
