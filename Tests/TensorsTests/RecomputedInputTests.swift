import Tensors
import TestSupport
import XCTest

/// A product whose input is an activation's or a LayerNorm's output keeps the means to compute
/// that input again instead of the values: the gradients are exactly those of the same product
/// on the values kept, and the input's values are let go after the forward pass.
final class RecomputedInputTests: XCTestCase {
    func testProductsOfActivationsAndLayerNormsGiveTheGradientsOfKeptInputs() {
        let hidden = randomTensor([6, 16], seed: 11)
        let gamma = randomTensor([16], seed: 12), beta = randomTensor([16], seed: 13)
        let makers: [(name: String, make: (Tensor) -> Tensor)] = [
            ("gelu", { activate($0, .gelu) }), ("gelu_new", { activate($0, .geluTanh) }), ("relu", { activate($0, .relu) }),
            ("silu", { activate($0, .silu) }), ("layer norm", { layerNorm($0, gamma: gamma, beta: beta, epsilon: 1e-5) }),
        ]
        for (name, make) in makers {
            let input = Tensor(hidden.values, shape: hidden.shape, requiresGrad: true)
            let made = make(input)
            XCTAssertNotNil(made.recomputedValues, name)
            let kept = Tensor(made.values, shape: made.shape)  // the same values, nothing to recompute them from
            XCTAssertNil(kept.recomputedValues, name)

            let (recomputedWeight, keptWeight) = (randomTensor([5, 16], seed: 14), randomTensor([5, 16], seed: 14))
            let (recomputedBias, keptBias) = (randomTensor([5], seed: 15), randomTensor([5], seed: 15))
            let upstream = randomTensor([6, 5], seed: 16)
            weightedSum(linear(made, weight: recomputedWeight, bias: recomputedBias), weights: upstream).backward()
            weightedSum(linear(kept, weight: keptWeight, bias: keptBias), weights: upstream).backward()
            XCTAssertEqual(recomputedWeight.grad?.values, keptWeight.grad?.values, "\(name): weight gradient")
            XCTAssertEqual(recomputedBias.grad?.values, keptBias.grad?.values, "\(name): bias gradient")
            XCTAssertNotNil(input.grad, "\(name): the gradient still reaches the input")
        }
    }

    /// tanh's backward keeps its output, not its input: nothing to recompute from.
    func testTanhKeepsItsOutput() {
        XCTAssertNil(activate(randomTensor([2, 3], seed: 17), .tanh).recomputedValues)
    }
}
