import Foundation
import Tensors
import XCTest

/// The Bradley–Terry loss of preference learning: its value by hand, its gradient by finite
/// differences, and no overflow for scores far apart.
final class PairwisePreferenceLossTests: XCTestCase {
    func testValueIsTheWeightedSumOfMinusLogSigmoids() {
        let scores = Tensor([1.5, -0.5, 0.25], shape: [3])
        let comparisons = [ScoreComparison(better: 0, worse: 1, weight: 0.5), ScoreComparison(better: 2, worse: 1, weight: 0.25, margin: 1),
                           ScoreComparison(better: 1, worse: 0, weight: 1)]
        func minusLogSigmoid(_ x: Double) -> Double { -Foundation.log(1 / (1 + Foundation.exp(-x))) }
        let expected = 0.5 * minusLogSigmoid(2) + 0.25 * minusLogSigmoid(0.75 - 1) + minusLogSigmoid(-2)
        XCTAssertEqual(Double(pairwiseLogSigmoidLoss(scores, comparisons: comparisons).item), expected, accuracy: 1e-6)
    }

    func testGradientMatchesFiniteDifferences() {
        var generator = SeededGenerator(seed: 5)
        let scores = Tensor((0..<6).map { _ in generator.nextNormal() }, shape: [6])
        scores.requiresGrad = true
        let comparisons = [ScoreComparison(better: 0, worse: 1, weight: 1 / 3), ScoreComparison(better: 0, worse: 2, weight: 1 / 3),
                           ScoreComparison(better: 1, worse: 2, weight: 1 / 3, margin: 0.5), ScoreComparison(better: 4, worse: 3, weight: 1),
                           ScoreComparison(better: 5, worse: 4, weight: 0.5)]
        checkGradients([scores], tolerance: 1e-2) { inputs in pairwiseLogSigmoidLoss(inputs[0], comparisons: comparisons) }
    }

    func testScoresFarApartStayFinite() {
        let scores = Tensor([200, -200], shape: [2])
        scores.requiresGrad = true
        let loss = pairwiseLogSigmoidLoss(scores, comparisons: [ScoreComparison(better: 1, worse: 0)])
        XCTAssertEqual(loss.item, 400, accuracy: 1e-3)
        loss.backward()
        XCTAssertEqual(scores.grad!.values, [1, -1])
    }
}
