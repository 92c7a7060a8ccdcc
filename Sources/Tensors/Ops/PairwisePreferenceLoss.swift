import Foundation

/// One comparison of a pairwise preference loss: `scores[better]` should exceed `scores[worse]`
/// by `margin`; the comparison's term is multiplied by `weight`.
public struct ScoreComparison: Sendable, Equatable {
    public var better: Int
    public var worse: Int
    public var weight: Float
    public var margin: Float

    public init(better: Int, worse: Int, weight: Float = 1, margin: Float = 0) {
        self.better = better
        self.worse = worse
        self.weight = weight
        self.margin = margin
    }
}

/// Σₖ weightₖ · −log σ(s[betterₖ] − s[worseₖ] − marginₖ), the Bradley–Terry loss of preference
/// learning: a reward model's scores (TRL's `RewardTrainer`; InstructGPT's with the weights of a
/// prompt's comparisons summing to one), or DPO's implicit rewards β·(log π − log π_ref).
/// −log σ(x) is computed as softplus(−x) = max(−x, 0) + log(1 + e^−|x|), finite for every x.
/// scores (N) → scalar.
public func pairwiseLogSigmoidLoss(_ scores: Tensor, comparisons: [ScoreComparison]) -> Tensor {
    let values = scores.pointer, count = scores.count
    var total = 0.0
    var slopes: [Float] = []  // ∂term/∂x = σ(x) − 1, per comparison
    slopes.reserveCapacity(comparisons.count)
    for comparison in comparisons {
        precondition(comparison.better >= 0 && comparison.better < count && comparison.worse >= 0 && comparison.worse < count,
                     "comparison \(comparison) out of range 0..<\(count)")
        let x = Double(values[comparison.better]) - Double(values[comparison.worse]) - Double(comparison.margin)
        total += Double(comparison.weight) * (Swift.max(-x, 0) + Foundation.log1p(Foundation.exp(-abs(x))))
        slopes.append(Float(1 / (1 + Foundation.exp(-x)) - 1))
    }
    let output = Tensor(scalar: Float(total))
    if scores.isRecording {
        output.requiresGrad = true
        let slot = scores.slot
        output.record(inputs: [scores]) { output in
            let gradOutput = output.grad!.item
            let gradScores = slot.gradientPointer()
            for (comparison, slope) in zip(comparisons, slopes) {
                let g = gradOutput * comparison.weight * slope
                gradScores[comparison.better] += g
                gradScores[comparison.worse] -= g
            }
        }
    }
    return output
}
