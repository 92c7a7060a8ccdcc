import NN
import Tensors
import TestSupport
import XCTest

/// A large table's gradient from lookups: only the rows looked up are listed and written, and the
/// gradient norm, clipping and AdamW on it give what they give on the same gradient held densely.
final class RowGradientTests: XCTestCase {
    /// 1,000 × 600 floats (2.4 MB): large enough for a sparse row gradient.
    static let rows = 1_000, columns = 600

    func testLookupGradientsListTheirRowsAndStepAsTheDenseGradient() {
        var generator = SeededGenerator(seed: 44)
        let values = (0..<(Self.rows * Self.columns)).map { _ in generator.nextNormal() }
        let sparse = Tensor(values, shape: [Self.rows, Self.columns], requiresGrad: true)
        let dense = Tensor(values, shape: [Self.rows, Self.columns], requiresGrad: true)
        let settings = AdamW.Settings(weightDecay: 0.01)
        let sparseOptimizer = AdamW(model: Embedding(weight: sparse), settings: settings)
        let denseOptimizer = AdamW(model: Embedding(weight: dense), settings: settings)
        // Per step, the lookups of each backward pass (two passes accumulate in step 2).
        let steps: [[[Int32]]] = [[[3, 7, 3]], [[999, 7], [500, 3]], [[42]], [[0, 999]]]
        for (index, lookups) in steps.enumerated() {
            for ids in lookups {
                let weights = Tensor((0..<(ids.count * Self.columns)).map { _ in generator.nextNormal() }, shape: [ids.count, Self.columns])
                weightedSum(gatherRows(sparse, indices: ids), weights: weights).backward()
            }
            let expectedRows = Array(Set(lookups.joined())).sorted()
            XCTAssertEqual(sparse.gradientRows, expectedRows, "step \(index + 1)")
            let gradient = sparse.grad!.values
            for row in 0..<Self.rows where !expectedRows.contains(Int32(row)) {
                XCTAssertTrue(gradient[(row * Self.columns)..<((row + 1) * Self.columns)].allSatisfy { $0 == 0 }, "row \(row)")
            }
            dense.grad = Tensor(gradient, shape: dense.shape)
            XCTAssertNil(dense.gradientRows)

            // The same sum in another grouping (runs of 64 squares are added in float).
            let sparseNorm = clipGradientNorm([sparse], maxNorm: 2), denseNorm = clipGradientNorm([dense], maxNorm: 2)
            XCTAssertEqual(sparseNorm, denseNorm, accuracy: denseNorm * 1e-7, "norm at step \(index + 1)")
            Closeness.assertClose(sparse.grad!.values, dense.grad!.values, tolerance: 1e-7, "clipped gradient at step \(index + 1)")
            sparseOptimizer.step(learningRate: 0.01)
            denseOptimizer.step(learningRate: 0.01)
            Closeness.assertClose(sparse.values, dense.values, tolerance: 1e-6, "parameters after step \(index + 1)")
            sparse.grad = nil
            dense.grad = nil
        }
    }

    /// A dense gradient into the same table (a tied output projection) makes every row count.
    func testDenseGradientForgetsTheRows() {
        let table = Tensor(zeros: [Self.rows, Self.columns], requiresGrad: true)
        weightedSum(gatherRows(table, indices: [5]), weights: Tensor(zeros: [1, Self.columns])).backward()
        XCTAssertEqual(table.gradientRows, [5])
        weightedSum(table, weights: Tensor(zeros: table.shape)).backward()
        XCTAssertNil(table.gradientRows)
        weightedSum(gatherRows(table, indices: [6]), weights: Tensor(zeros: [1, Self.columns])).backward()
        XCTAssertNil(table.gradientRows, "rows are not listed again once any row may be nonzero")
    }

    /// Small tables (and intermediates) keep plain dense gradients.
    func testSmallTablesKeepDenseGradients() {
        let table = Tensor(zeros: [10, 8], requiresGrad: true)
        weightedSum(gatherRows(table, indices: [2]), weights: Tensor(zeros: [1, 8])).backward()
        XCTAssertNotNil(table.grad)
        XCTAssertNil(table.gradientRows)
    }
}
