import Tensors
import XCTest

/// The gradient graph holds the values a backward pass reads and only the gradient slots of the
/// rest: an intermediate that feeds a frozen layer, or a sum, is freed once the forward pass lets
/// it go, and its gradient still flows through it to the leaves.
final class GradientSlotTests: XCTestCase {
    /// leaf (3, 8) → scale → hidden → linear(W) → sum, with `hidden` dropped after the forward pass.
    private func run(weightRequiresGrad: Bool) -> (hiddenValuesKept: Bool, leafGradient: [Float], weightGradient: [Float]?) {
        let leaf = randomTensor([3, 8], seed: 1)
        let weight = randomTensor([4, 8], seed: 2, requiresGrad: weightRequiresGrad)
        var hidden: Tensor? = scale(leaf, by: 2)
        weak var hiddenValues = hidden!.storage
        let loss = sum(add(linear(hidden!, weight: weight), linear(hidden!, weight: weight)))
        hidden = nil
        let kept = hiddenValues != nil
        loss.backward()
        return (kept, leaf.grad!.values, weight.grad?.values)
    }

    func testAFrozenLayersInputIsFreedAfterTheForwardPass() {
        let frozen = run(weightRequiresGrad: false)
        XCTAssertFalse(frozen.hiddenValuesKept, "nothing reads the input of a frozen layer backwards")
        XCTAssertNil(frozen.weightGradient)

        let trainable = run(weightRequiresGrad: true)
        XCTAssertTrue(trainable.hiddenValuesKept, "a trainable weight's gradient reads the layer's input")
        XCTAssertNotNil(trainable.weightGradient)

        // ∂/∂leaf of Σ 2·(2·leaf)·Wᵀ: each element 4·Σ_out W[out, in], the same either way.
        let weight = randomTensor([4, 8], seed: 2, requiresGrad: false).values
        let expected = (0..<24).map { index in 4 * (0..<4).reduce(Float(0)) { $0 + weight[$1 * 8 + index % 8] } }
        for gradient in [frozen.leafGradient, trainable.leafGradient] {
            for (actual, wanted) in zip(gradient, expected) { XCTAssertEqual(actual, wanted, accuracy: 1e-5) }
        }
    }
}
