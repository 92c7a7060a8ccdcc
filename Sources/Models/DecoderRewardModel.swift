import NN
import Tensors

/// A decoder with a scalar `score` head, read at each sequence's last real token: transformers'
/// `…ForSequenceClassification(num_labels=1)` on a Llama-family or GPT-2 model, the reward model
/// of InstructGPT and TRL. Its parameter paths are transformers' (`model.layers.0…`, `score.weight`);
/// the language-model head is not part of it. Shapes: B sequences, T positions, C hidden size.
public final class DecoderRewardModel: Module {
    public let decoder: any CausalLanguageModel
    /// (1, C), no bias, as transformers' `score`.
    public let score: Linear

    /// A reward model on `decoder` with a new score head drawn as transformers initialises it
    /// (normal, standard deviation 0.02, its default `initializer_range`).
    public init(decoder: any CausalLanguageModel, generator: inout SeededGenerator) {
        self.decoder = decoder
        let hidden = decoder.config.hiddenSize
        score = Linear(weight: Tensor((0..<hidden).map { _ in 0.02 * generator.nextNormal() }, shape: [1, hidden]), bias: nil)
    }

    public var children: [(name: String, module: any Module)] {
        decoder.children.filter { $0.name != "lm_head" } + [("score", score)]
    }

    /// The reward of each sequence (B), read at `readPositions[b]`, the last token of sequence b
    /// that is not the padding id (transformers' rule; with SmolLM2, whose padding id is its
    /// end-of-sequence id, that is the completion's last token).
    public func rewards(_ batch: TokenBatch, readPositions: [Int], context: ForwardContext) -> Tensor {
        precondition(readPositions.count == batch.batchSize, "\(readPositions.count) read positions for \(batch.batchSize) sequences")
        let hidden = decoder.hiddenStates(batch, context: context)  // (B, T, C)
        let rows = readPositions.enumerated().map { Int32($0.offset * batch.sequenceLength + $0.element) }
        let last = gatherRows(hidden, indices: rows)  // (B, C)
        return score(last, context: context).reshaped([batch.batchSize])  // (B)
    }

    /// Where transformers reads each sequence's reward: the last position whose id is not `padID`
    /// (0 when every id is).
    public static func readPositions(of sequences: [[Int32]], padID: Int32) -> [Int] {
        sequences.map { ids in ids.lastIndex { $0 != padID } ?? 0 }
    }
}
