import NN
import Tensors

/// A decoder-only language model with its output head (Llama family, GPT-2), with the names
/// PEFT and the trainer need. Shapes: B batch, T new tokens, S cached plus new tokens, V vocabulary.
public protocol CausalLanguageModel: Module {
    var config: DecoderConfig { get }
    /// Paths of the decoder layers, first to last (for training only the last N).
    var decoderLayerPaths: [String] { get }
    /// The projection from hidden states to next-token scores (`lm_head`, or the tied embedding).
    var outputHead: Linear { get }
    /// The last hidden state at every position (B, T, C), before the output head. Padding
    /// (attention mask 0) is masked as a key only: every query attends causally to the real
    /// tokens before it, as the reference does.
    func hiddenStates(_ batch: TokenBatch, context: ForwardContext) -> Tensor
    /// Feeds new tokens ids (B·T, row-major (B, T)) at `positions` (B·T) after the tokens in
    /// `cache`, appends their keys and values to it, and returns the scores of each sequence's last
    /// new token (B, V). Every sequence in the batch is taken as real (no padding); no gradients
    /// are recorded.
    func forward(ids: [Int32], positions: [Int32], cache: KeyValueCache) -> Tensor
}

extension CausalLanguageModel {
    public var vocabularySize: Int { config.vocabularySize }
    /// The modules PEFT targets by default for this architecture.
    public var defaultLoRATargetModules: [String] { config.defaultLoRATargetModules }
    /// The output head, which `all-linear` leaves out.
    public var outputHeadNames: [String] { ["lm_head"] }

    /// An empty cache for `batchSize` sequences.
    public func makeCache(batchSize: Int) -> KeyValueCache {
        KeyValueCache(layerCount: config.layerCount, batchSize: batchSize)
    }

    /// `forward(ids:positions:cache:)` with positions continuing after the cached tokens.
    public func forward(ids: [Int32], cache: KeyValueCache) -> Tensor {
        precondition(ids.count % cache.batchSize == 0, "\(ids.count) ids for a batch of \(cache.batchSize)")
        let newLength = ids.count / cache.batchSize
        let positions = (0..<cache.batchSize).flatMap { _ in (0..<newLength).map { Int32(cache.length + $0) } }
        return forward(ids: ids, positions: positions, cache: cache)
    }

    /// Next-token scores at every position (B, T, V).
    public func logits(_ batch: TokenBatch, context: ForwardContext) -> Tensor {
        outputHead(hiddenStates(batch, context: context), context: context)
    }

    /// transformers' causal-LM loss of `labels` (B·T): the model shifts them itself, so position t
    /// predicts `labels[t + 1]` of its sequence; -100 is ignored; the cross-entropy is averaged over
    /// the counted targets, or summed and divided by `itemCount` when given (gradient
    /// accumulation's `num_items_in_batch`). Only the scored positions go through the output head
    /// (not a prompt's tokens in supervised fine-tuning, nor padding, nor each sequence's last
    /// token), fused with the loss when the head is frozen. → scalar.
    public func loss(_ batch: TokenBatch, labels: [Int32], context: ForwardContext, itemCount: Int? = nil) -> Tensor {
        let targets = shiftedCausalLabels(labels, batchSize: batch.batchSize, length: batch.sequenceLength)  // (B·T)
        let scored = targets.indices.filter { targets[$0] >= 0 }
        guard !scored.isEmpty else { return Tensor(scalar: 0) }
        let hidden = hiddenStates(batch, context: context)  // (B, T, C)
        let scoredHidden = gatherRows(hidden, indices: scored.map { Int32($0) })  // (M, C)
        let mean = outputHead.crossEntropy(scoredHidden, labels: scored.map { targets[$0] }, context: context)
        guard let itemCount else { return mean }
        precondition(itemCount > 0, "item count \(itemCount) must be positive")
        return scale(mean, by: Float(scored.count) / Float(itemCount))
    }

    /// Greedy decoding of one prompt with the cache: the new ids, ending after the first id in
    /// `stopIDs` or after `maxNewTokens`.
    public func greedyContinuation(of prompt: [Int32], maxNewTokens: Int, stopIDs: Set<Int32> = []) -> [Int32] {
        precondition(!prompt.isEmpty, "greedy decoding needs a prompt")
        let cache = makeCache(batchSize: 1)
        var scores = forward(ids: prompt, cache: cache)  // (1, V)
        var generated: [Int32] = []
        while generated.count < maxNewTokens {
            let next = Int32(argmax(scores.buffer))
            generated.append(next)
            if stopIDs.contains(next) || generated.count == maxNewTokens { break }
            scores = forward(ids: [next], cache: cache)
        }
        return generated
    }
}

/// The index of the largest value (the first one on ties, as `torch.argmax`).
func argmax(_ values: UnsafeMutableBufferPointer<Float>) -> Int {
    var best = 0
    for index in values.indices where values[index] > values[best] { best = index }
    return best
}

/// Labels (B·T) shifted left by one inside each sequence, so that position t holds the target
/// it predicts, `labels[t + 1]`; the last position of each sequence predicts nothing (-100).
func shiftedCausalLabels(_ labels: [Int32], batchSize: Int, length: Int) -> [Int32] {
    precondition(labels.count == batchSize * length, "\(labels.count) labels for a batch of \(batchSize) × \(length)")
    var shifted = [Int32](repeating: -100, count: labels.count)  // (B·T)
    for row in 0..<batchSize {
        for position in 0..<max(length - 1, 0) {
            shifted[row * length + position] = labels[row * length + position + 1]
        }
    }
    return shifted
}

/// transformers' causal-LM loss from whole logits (B, T, V): the reference computation that
/// `CausalLanguageModel.loss` does without them. → scalar.
public func causalLanguageModelLoss(logits: Tensor, labels: [Int32]) -> Tensor {
    precondition(logits.rank == 3, "causal LM logits must be (B, T, V), got \(logits.shape)")
    return crossEntropy(logits: logits, labels: shiftedCausalLabels(labels, batchSize: logits.shape[0], length: logits.shape[1]))
}

extension TokenBatch {
    /// Causal-LM labels: the input ids with -100 on padding (what transformers' language-modelling
    /// collator gives). (B·T)
    public var causalLanguageModelLabels: [Int32] {
        zip(inputIDs, attentionMask.buffer).map { id, mask in mask > 0.5 ? id : -100 }
    }
}

/// Keys and values of the tokens seen so far, per layer, so that generation feeds one new token
/// at a time. Each layer's entries are kept as (B, capacity, Hkv·D) and grown by doubling.
public final class KeyValueCache {
    public let batchSize: Int
    /// Tokens cached per sequence (S before a step).
    public private(set) var length = 0
    private var keys: [TensorStorage?]  // per layer: (B, capacity, Hkv·D)
    private var values: [TensorStorage?]
    private var capacity = 0
    private var channels = 0

    public init(layerCount: Int, batchSize: Int) {
        precondition(layerCount > 0 && batchSize > 0, "a cache of \(layerCount) layers for \(batchSize) sequences")
        self.batchSize = batchSize
        keys = Array(repeating: nil, count: layerCount)
        values = Array(repeating: nil, count: layerCount)
    }

    public var layerCount: Int { keys.count }

    /// Forgets every cached token.
    public func reset() {
        length = 0
        capacity = 0
        keys = Array(repeating: nil, count: keys.count)
        values = Array(repeating: nil, count: values.count)
    }

    /// Appends one layer's new keys and values (B, T, Hkv·D) after the cached ones and returns
    /// everything cached for that layer, (B, S + T, Hkv·D) each. `finishStep` then commits T.
    func append(layer: Int, keys newKeys: Tensor, values newValues: Tensor) -> (keys: Tensor, values: Tensor) {
        precondition(newKeys.shape == newValues.shape && newKeys.rank == 3 && newKeys.shape[0] == batchSize,
                     "cache append of keys \(newKeys.shape) and values \(newValues.shape) for a batch of \(batchSize)")
        let newLength = newKeys.shape[1], width = newKeys.shape[2]
        if channels == 0 { channels = width }
        precondition(width == channels, "cache of width \(channels) given \(width)")
        let total = length + newLength
        if total > capacity { grow(to: max(total, 2 * capacity, 16)) }
        let layerKeys = keys[layer] ?? TensorStorage(zeroedCount: batchSize * capacity * channels)
        let layerValues = values[layer] ?? TensorStorage(zeroedCount: batchSize * capacity * channels)
        keys[layer] = layerKeys
        values[layer] = layerValues
        for row in 0..<batchSize {
            let destination = (row * capacity + length) * channels
            let source = row * newLength * channels
            (layerKeys.pointer + destination).update(from: newKeys.pointer + source, count: newLength * channels)
            (layerValues.pointer + destination).update(from: newValues.pointer + source, count: newLength * channels)
        }
        return (contiguous(layerKeys, length: total), contiguous(layerValues, length: total))
    }

    /// Commits the tokens of a step once every layer has appended them.
    func finishStep(newLength: Int) {
        length += newLength
    }

    /// The first `length` positions of every sequence as a dense (B, length, C) tensor: a view of
    /// the buffer for one sequence, a copy otherwise.
    private func contiguous(_ storage: TensorStorage, length: Int) -> Tensor {
        if batchSize == 1 {
            let view = TensorStorage(viewing: storage.pointer, count: length * channels, owner: storage)
            return Tensor(shape: [1, length, channels], storage: view)
        }
        let result = Tensor(uninitialized: [batchSize, length, channels])
        for row in 0..<batchSize {
            (result.pointer + row * length * channels).update(from: storage.pointer + row * capacity * channels, count: length * channels)
        }
        return result
    }

    private func grow(to newCapacity: Int) {
        func moved(_ storage: TensorStorage?) -> TensorStorage? {
            guard let storage else { return nil }
            let larger = TensorStorage(zeroedCount: batchSize * newCapacity * channels)
            for row in 0..<batchSize {
                (larger.pointer + row * newCapacity * channels).update(from: storage.pointer + row * capacity * channels,
                                                                       count: length * channels)
            }
            return larger
        }
        keys = keys.map(moved)
        values = values.map(moved)
        capacity = newCapacity
    }
}
