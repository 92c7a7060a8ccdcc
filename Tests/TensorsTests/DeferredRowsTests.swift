import NN
import Tensors
import TestSupport
import XCTest

/// A table whose rows stay in their source until a training step looks them up trains to what
/// the same table held whole gives: the same lookups (with and without gradients), the same
/// values when saved, the same optimizer moments, and the same table once put in place.
final class DeferredRowsTests: XCTestCase {
    /// 1,000 × 600 floats (2.4 MB): large enough to be deferred.
    static let rows = 1_000, columns = 600

    func testADeferredTableTrainsAsTheWholeTable() throws {
        var generator = SeededGenerator(seed: 45)
        let values = (0..<(Self.rows * Self.columns)).map { _ in generator.nextNormal() }
        let whole = Embedding(weight: Tensor(values, shape: [Self.rows, Self.columns], requiresGrad: true))
        XCTAssertFalse(whole.deferRowsUntilLookedUp(), "a table not mapped from a file stays whole")
        let deferring = Embedding(count: Self.rows, dimensions: Self.columns)
        var releases = 0  // stands in for letting a mapped file's pages go
        deferring.replaceWeight(Tensor(values, shape: [Self.rows, Self.columns], requiresGrad: true), releasingPagesWith: { releases += 1 })
        XCTAssertTrue(deferring.deferRowsUntilLookedUp())
        let table = deferring.weight
        let deferred = try XCTUnwrap(table.storage.deferredRows)

        let settings = AdamW.Settings(weightDecay: 0.1)
        let wholeOptimizer = AdamW(model: whole, settings: settings)
        var deferringOptimizer: AdamW? = AdamW(model: deferring, settings: settings)
        // The lookups of each step; row 999 first comes in step 2, row 0 in step 4.
        let steps: [[Int32]] = [[3, 7, 3], [999, 7, 500], [42], [0, 999, 3]]
        for (index, ids) in steps.enumerated() {
            let weights = Tensor((0..<(ids.count * Self.columns)).map { _ in generator.nextNormal() }, shape: [ids.count, Self.columns])
            weightedSum(whole(ids), weights: weights).backward()
            weightedSum(deferring(ids), weights: weights).backward()
            let wholeNorm = clipGradientNorm([whole.weight], maxNorm: 1), deferredNorm = clipGradientNorm([table], maxNorm: 1)
            XCTAssertEqual(deferredNorm, wholeNorm, accuracy: wholeNorm * 1e-6, "gradient norm at step \(index + 1)")
            wholeOptimizer.step(learningRate: 0.05)
            deferringOptimizer!.step(learningRate: 0.05)
            whole.clearGradients()
            deferring.clearGradients()

            // Rows looked up without gradients, some still deferred, and the table as saved.
            let probe: [Int32] = [3, 5, 999, 998, 0]
            GradientMode.withoutGradients {
                Closeness.assertClose(deferring(probe).values, whole(probe).values, tolerance: 1e-6, "lookup after step \(index + 1)")
            }
            Closeness.assertClose(table.storage.values(in: 0..<table.count), whole.weight.values, tolerance: 1e-6,
                                  "saved values after step \(index + 1)")
        }
        XCTAssertEqual(deferred.materialized, [3, 7, 999, 500, 42, 0], "rows come in as first looked up for training")
        XCTAssertGreaterThan(releases, 0, "the source's pages are let go after it is read")

        let wholeState = wholeOptimizer.state(), deferredState = deferringOptimizer!.state()
        XCTAssertEqual(deferredState.map(\.key), wholeState.map(\.key))
        for (expected, actual) in zip(wholeState, deferredState) {
            Closeness.assertClose(actual.slices(0..<table.count), expected.slices(0..<table.count), tolerance: 1e-6, expected.key)
            XCTAssertEqual(actual.slices(1_234..<5_678), Array(actual.slices(0..<table.count)[1_234..<5_678]), "\(expected.key) in slices")
        }

        // Training over (the optimizer gone), every row is put in its own place.
        deferringOptimizer = nil
        deferring.materializeDeferredRows()
        XCTAssertNil(table.storage.deferredRows)
        Closeness.assertClose(table.values, whole.weight.values, tolerance: 1e-6, "the table put in place")
        XCTAssertEqual(deferring([999, 5]).values, Array(table.values[(999 * Self.columns)..<(1000 * Self.columns)] + table.values[(5 * Self.columns)..<(6 * Self.columns)]))
    }

    /// Values restored into a deferred table replace it whole: the deferral is given up.
    func testOverwritingADeferredTableEndsTheDeferral() throws {
        let deferring = Embedding(count: Self.rows, dimensions: Self.columns)
        deferring.replaceWeight(Tensor(zeros: [Self.rows, Self.columns], requiresGrad: true), releasingPagesWith: {})
        XCTAssertTrue(deferring.deferRowsUntilLookedUp())
        XCTAssertFalse(deferring.deferRowsUntilLookedUp(), "deferred once")
        deferring.willOverwriteValues()
        XCTAssertNil(deferring.weight.storage.deferredRows)
        for index in 0..<deferring.weight.count { deferring.weight.pointer[index] = Float(index % 7) }
        XCTAssertEqual(deferring([3]).values, (0..<Self.columns).map { Float((3 * Self.columns + $0) % 7) })
    }
}
