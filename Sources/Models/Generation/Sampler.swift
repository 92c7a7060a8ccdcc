import Foundation
import Tensors

/// Chooses the next token from a step's scores (V), as transformers' `generate` does: greedily
/// (temperature 0: the highest score, the first on ties), or by drawing from the softmax of the
/// scores divided by the temperature, narrowed to the `topK` highest scores and then to the
/// nucleus of `topP` probability. Draws come from a `SeededGenerator`, so a seed fixes them.
///
/// The sampler keeps its scratch buffers between calls; one sampler serves one sequence.
public struct Sampler: Sendable {
    public let temperature: Float
    public let topK: Int
    public let topP: Float
    /// The generator of the draws (advanced by one number per sampled token).
    public private(set) var generator: SeededGenerator
    /// The kept token ids of the current step, then their weights (unnormalised or normalised
    /// probabilities). Only the first `count` entries of a step are meaningful. (≤ V each)
    private var candidateIDs: [Int32] = []
    private var candidateWeights: [Float] = []
    /// A copy of the scores for finding the k-th largest. (V)
    private var selection: [Float] = []
    /// (probability, id) pairs of the nucleus before sorting.
    private var nucleus: [(probability: Float, id: Int32)] = []

    public init(temperature: Float, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0) {
        precondition(temperature >= 0 && topK >= 0 && (0...1).contains(topP),
                     "temperature \(temperature), top-k \(topK), top-p \(topP)")
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        generator = SeededGenerator(seed: seed)
    }

    /// The sampler of a configuration's temperature, top-k, top-p and seed.
    public init(config: GenerationConfig) {
        self.init(temperature: config.temperature, topK: config.topK, topP: config.topP, seed: config.seed)
    }

    /// The next token id for `scores` (V), which are overwritten (scaled by the temperature).
    public mutating func nextToken(scores: UnsafeMutableBufferPointer<Float>) -> Int32 {
        precondition(!scores.isEmpty, "sampling from no scores")
        if temperature == 0 { return Int32(argmax(scores)) }
        let count = keepCandidates(scores)
        var total = 0.0
        for index in 0..<count { total += Double(candidateWeights[index]) }
        let target = Double(generator.next() >> 11) * 0x1p-53 * total  // uniform in [0, total)
        var cumulative = 0.0
        for index in 0..<count {
            cumulative += Double(candidateWeights[index])
            if target < cumulative { return candidateIDs[index] }
        }
        return candidateIDs[count - 1]
    }

    /// The ids that could be drawn for `scores` (V) and their probabilities, most likely first;
    /// greedy decoding gives the one chosen id with probability 1.
    public mutating func distribution(scores: [Float]) -> [(id: Int32, probability: Float)] {
        var scores = scores
        return scores.withUnsafeMutableBufferPointer { scores in
            if temperature == 0 { return [(Int32(argmax(scores)), 1)] }
            let count = keepCandidates(scores)
            let total = (0..<count).reduce(0.0) { $0 + Double(candidateWeights[$1]) }
            return (0..<count)
                .map { (id: candidateIDs[$0], probability: Float(Double(candidateWeights[$0]) / total)) }
                .sorted { $0.probability > $1.probability || ($0.probability == $1.probability && $0.id < $1.id) }
        }
    }

    /// Applies temperature, top-k and top-p to `scores` (V) and leaves the kept ids with their
    /// unnormalised probabilities in the candidate buffers; returns how many were kept (≥ 1).
    private mutating func keepCandidates(_ scores: UnsafeMutableBufferPointer<Float>) -> Int {
        let vocabularySize = scores.count
        if candidateIDs.count < vocabularySize {
            candidateIDs = [Int32](repeating: 0, count: vocabularySize)
            candidateWeights = [Float](repeating: 0, count: vocabularySize)
        }
        if temperature != 1 {
            for index in 0..<vocabularySize { scores[index] /= temperature }
        }
        // Top-k: every score below the k-th highest goes (ties with it stay).
        var threshold = -Float.infinity
        if topK > 0 && topK < vocabularySize {
            if selection.count != vocabularySize { selection = [Float](repeating: 0, count: vocabularySize) }
            threshold = selection.withUnsafeMutableBufferPointer { copy in
                _ = copy.update(fromContentsOf: scores)
                return Self.kthLargest(copy, k: topK)
            }
        }
        var count = 0
        var maximum = -Float.infinity
        for index in 0..<vocabularySize where scores[index] >= threshold && scores[index] > -.infinity {
            candidateIDs[count] = Int32(index)
            maximum = max(maximum, scores[index])
            count += 1
        }
        guard count > 0 else {  // every score is -inf: fall back to the first id
            candidateIDs[0] = Int32(argmax(scores))
            candidateWeights[0] = 1
            return 1
        }
        // Softmax numerators over the kept scores.
        var total: Float = 0
        for index in 0..<count {
            let weight = exp(scores[Int(candidateIDs[index])] - maximum)
            candidateWeights[index] = weight
            total += weight
        }
        guard topP < 1 else { return count }
        for index in 0..<count { candidateWeights[index] /= total }
        return keepNucleus(count: count)
    }

    /// Top-p over the `count` candidates holding probabilities: keeps, most likely first, each
    /// token while the probability of those ranked above it is below `topP` (transformers removes
    /// a token when the ascending cumulative probability up to it is at most 1 − top_p, which is the
    /// same set). Only the likeliest tokens are sorted: those above a threshold that is lowered
    /// until they hold more than `topP`. Returns the number kept, now first in the buffers.
    private mutating func keepNucleus(count: Int) -> Int {
        var largest: Float = 0
        for index in 0..<count { largest = max(largest, candidateWeights[index]) }
        var threshold = largest / 64
        while true {
            nucleus.removeAll(keepingCapacity: true)
            var mass = 0.0
            for index in 0..<count where candidateWeights[index] >= threshold {
                nucleus.append((candidateWeights[index], candidateIDs[index]))
                mass += Double(candidateWeights[index])
            }
            if mass > Double(topP) + 1e-6 || threshold == 0 { break }
            threshold = threshold < 1e-30 ? 0 : threshold / 64
        }
        nucleus.sort { $0.probability > $1.probability || ($0.probability == $1.probability && $0.id < $1.id) }
        var above = 0.0
        var kept = 0
        for (probability, id) in nucleus {
            if kept > 0 && above >= Double(topP) { break }
            candidateIDs[kept] = id
            candidateWeights[kept] = probability
            above += Double(probability)
            kept += 1
        }
        return kept
    }

    /// The k-th largest of `values` (1 ≤ k ≤ count), found by quickselect; reorders `values`.
    public static func kthLargest(_ values: UnsafeMutableBufferPointer<Float>, k: Int) -> Float {
        precondition(k >= 1 && k <= values.count, "k = \(k) of \(values.count) values")
        let target = k - 1  // position in descending order
        var low = 0, high = values.count - 1
        while low < high {
            let middle = (low + high) / 2
            let pivot = median(values[low], values[middle], values[high])
            var left = low, right = high
            while left <= right {  // larger values to the left of the pivot, smaller to the right
                while values[left] > pivot { left += 1 }
                while values[right] < pivot { right -= 1 }
                if left <= right {
                    values.swapAt(left, right)
                    left += 1
                    right -= 1
                }
            }
            if target <= right {
                high = right
            } else if target >= left {
                low = left
            } else {
                return values[target]  // between the two halves: equal to the pivot
            }
        }
        return values[target]
    }

    private static func median(_ a: Float, _ b: Float, _ c: Float) -> Float {
        max(min(a, b), min(max(a, b), c))
    }
}
