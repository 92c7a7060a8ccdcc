import NN
import Tensors
import TestSupport
import XCTest

/// AdamW steps and gradient clipping on a parameter large enough to be split over the cores,
/// against `torch.optim.AdamW`'s and `clip_grad_norm_`'s formulas computed here in Double.
final class OptimizerStepTests: XCTestCase {
    /// 120,000 weights (split over the workers) and 300 biases (too few to split; no decay).
    static let outputs = 300, inputs = 400

    func testAdamWStepsFollowTheFormulaOnEverySlice() {
        var generator = SeededGenerator(seed: 41)
        let weight = Tensor((0..<(Self.outputs * Self.inputs)).map { _ in generator.nextNormal() }, shape: [Self.outputs, Self.inputs],
                            requiresGrad: true)
        let bias = Tensor((0..<Self.outputs).map { _ in generator.nextNormal() }, shape: [Self.outputs], requiresGrad: true)
        let layer = Linear(weight: weight, bias: bias)
        let settings = AdamW.Settings(weightDecay: 0.01)
        let optimizer = AdamW(model: layer, settings: settings)
        // The reference: p, m, v per element in Double.
        var expected = [(weight.values + bias.values).map(Double.init)]
        var m = [Double](repeating: 0, count: expected[0].count), v = m
        let rates: [Float] = [1e-3, 5e-4, 2.5e-4]
        for (index, rate) in rates.enumerated() {
            let step = Double(index + 1)
            let gradients = (0..<(weight.count + bias.count)).map { _ in generator.nextNormal() }
            weight.grad = Tensor(Array(gradients[..<weight.count]), shape: weight.shape)
            bias.grad = Tensor(Array(gradients[weight.count...]), shape: bias.shape)
            optimizer.step(learningRate: rate)
            var next = expected.last!
            for element in next.indices {
                let g = Double(gradients[element]), decay = element < weight.count ? Double(settings.weightDecay) : 0
                m[element] = 0.9 * m[element] + 0.1 * g
                v[element] = 0.999 * v[element] + 0.001 * g * g
                let corrected = (m[element] / (1 - pow(0.9, step))) / ((v[element] / (1 - pow(0.999, step))).squareRoot() + 1e-8)
                next[element] = next[element] * (1 - Double(rate) * decay) - Double(rate) * corrected
            }
            expected.append(next)
            let actual = weight.values + bias.values
            let worst = zip(actual, next).map { abs(Double($0) - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-6, "step \(index + 1)")
        }
    }

    func testGradientNormAndClippingFollowTheFormula() {
        var generator = SeededGenerator(seed: 42)
        let large = Tensor(zeros: [1_000_003], requiresGrad: true), small = Tensor(zeros: [7], requiresGrad: true)
        large.grad = Tensor((0..<large.count).map { _ in generator.nextNormal() }, shape: large.shape)
        small.grad = Tensor((0..<small.count).map { _ in 100 * generator.nextNormal() }, shape: small.shape)
        let squares = (large.grad!.values + small.grad!.values).reduce(0.0) { $0 + Double($1) * Double($1) }
        XCTAssertEqual(gradientNorm([large, small]), squares.squareRoot(), accuracy: 1e-6 * squares.squareRoot())

        let before = large.grad!.values + small.grad!.values
        let norm = clipGradientNorm([large, small], maxNorm: 1)
        XCTAssertEqual(norm, squares.squareRoot(), accuracy: 1e-6 * norm)
        let factor = Float(1 / (norm + 1e-6))
        Closeness.assertGradientClose(large.grad!.values + small.grad!.values, before.map { $0 * factor }, relative: 1e-6,
                                      absoluteFloor: 0, "clipped gradients")
        XCTAssertEqual(gradientNorm([large, small]), 1, accuracy: 1e-5)
    }

    /// An embedding-like table whose rows get gradients only now and then: unseen rows are only
    /// decayed, a row keeps moving on its momentum after its gradient stops, and an optimizer
    /// restored from the saved state goes on exactly as the uninterrupted one (dense formula in Double).
    func testRowsWithoutGradientsFollowTheDenseFormula() throws {
        let rows = 50, columns = 8
        var generator = SeededGenerator(seed: 43)
        let table = Tensor((0..<(rows * columns)).map { _ in generator.nextNormal() }, shape: [rows, columns], requiresGrad: true)
        let embedding = Embedding(weight: table)
        let settings = AdamW.Settings(weightDecay: 0.1)
        let optimizer = AdamW(model: embedding, settings: settings)
        var expected = table.values.map(Double.init)
        var m = [Double](repeating: 0, count: expected.count), v = m
        let rowsWithGradient: [[Int]] = [[3, 7], [7, 20, 21], [], [40], [3, 49], [0]]
        var restored: AdamW?
        for (index, gradientRows) in rowsWithGradient.enumerated() {
            let step = Double(index + 1), rate: Float = 0.01
            var gradient = [Float](repeating: 0, count: rows * columns)
            for row in gradientRows { for column in 0..<columns { gradient[row * columns + column] = generator.nextNormal() } }
            table.grad = Tensor(gradient, shape: table.shape)
            (restored ?? optimizer).step(learningRate: rate)
            for element in expected.indices {
                let g = Double(gradient[element])
                m[element] = 0.9 * m[element] + 0.1 * g
                v[element] = 0.999 * v[element] + 0.001 * g * g
                let corrected = (m[element] / (1 - pow(0.9, step))) / ((v[element] / (1 - pow(0.999, step))).squareRoot() + 1e-8)
                expected[element] = expected[element] * (1 - Double(rate) * 0.1) - Double(rate) * corrected
            }
            let worst = zip(table.values, expected).map { abs(Double($0) - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-6, "step \(index + 1)")
            if index == 2 {  // save and restore half-way: the next steps run on the restored optimizer
                let state = Dictionary(uniqueKeysWithValues: optimizer.state().map { ($0.key, $0.slices(0..<(rows * columns))) })
                let fresh = AdamW(model: embedding, settings: settings)
                try fresh.restore(stepCount: optimizer.stepCount) { state[$0]! }
                restored = fresh
            }
        }
        // Rows 0..<50 never seen keep zero moments.
        let moments = Dictionary(uniqueKeysWithValues: (restored ?? optimizer).state().map { ($0.key, $0.slices(0..<(rows * columns))) })
        let unseen = Set(0..<rows).subtracting(rowsWithGradient.flatMap { $0 })
        for row in unseen {
            XCTAssertTrue(moments["weight.exp_avg"]![(row * columns)..<((row + 1) * columns)].allSatisfy { $0 == 0 }, "row \(row)")
        }
    }
}
