@testable import Tensors
import XCTest

/// The chunked head-and-loss op against the plain route (the whole logits, then `crossEntropy`):
/// the same loss and input gradient, for a dense and a quantised head, over several chunks,
/// with ignored labels.
final class LinearCrossEntropyTests: XCTestCase {
    // 700 rows over a 50,000-token vocabulary: 335 rows a chunk, so three chunks.
    private let rows = 700, columns = 32, vocabulary = 50_000

    func testDenseHeadMatchesLogitsThenCrossEntropy() {
        let weight = randomValues([vocabulary, columns], seed: 1, scale: 0.5)
        XCTAssertGreaterThan(rows, linearCrossEntropyChunkFloats / vocabulary, "more rows than one chunk")
        compare(fused: { linearCrossEntropy($0, frozenWeight: weight, labels: $1) },
                plain: { crossEntropy(logits: linear($0, weight: weight), labels: $1) })
    }

    func testQuantizedHeadMatchesItsDecodedWeight() {
        let blocks = RandomBlocks(format: .q4_1, rows: vocabulary, columns: columns, seed: 2)
        let decoded = Tensor(blocks.values, shape: [vocabulary, columns])
        compare(fused: { linearCrossEntropy($0, quantizedWeight: blocks.matrix, labels: $1) },
                plain: { crossEntropy(logits: linear($0, weight: decoded), labels: $1) })
    }

    func testNoCountedLabelGivesZeroWithoutGradient() {
        let weight = randomValues([vocabulary, columns], seed: 3, scale: 0.5)
        let input = randomValues([4, columns], seed: 4, scale: 1, requiresGrad: true)
        let loss = linearCrossEntropy(input, frozenWeight: weight, labels: [-100, -100, -100, -100])
        XCTAssertEqual(loss.item, 0)
        XCTAssertFalse(loss.requiresGrad)
    }

    func testWithoutGradientsNothingIsRecorded() {
        let weight = randomValues([vocabulary, columns], seed: 5, scale: 0.5)
        let input = randomValues([rows, columns], seed: 6, scale: 1, requiresGrad: true)
        let loss = GradientMode.withoutGradients { linearCrossEntropy(input, frozenWeight: weight, labels: labels()) }
        XCTAssertFalse(loss.requiresGrad)
        XCTAssertGreaterThan(loss.item, 0)
    }

    /// Every seventh label is ignored; the rest are spread over the vocabulary.
    private func labels() -> [Int32] {
        (0..<rows).map { $0 % 7 == 3 ? -100 : Int32(($0 * 7919) % vocabulary) }
    }

    private func compare(fused: (Tensor, [Int32]) -> Tensor, plain: (Tensor, [Int32]) -> Tensor,
                         file: StaticString = #filePath, line: UInt = #line) {
        let labels = labels()
        let fusedInput = randomValues([rows, columns], seed: 7, scale: 1, requiresGrad: true)
        let plainInput = Tensor(fusedInput.values, shape: fusedInput.shape, requiresGrad: true)
        let fusedLoss = fused(fusedInput, labels), plainLoss = plain(plainInput, labels)
        XCTAssertEqual(fusedLoss.item, plainLoss.item, accuracy: 1e-5 * max(1, abs(plainLoss.item)), "loss", file: file, line: line)
        // A loss scaled after the op (gradient accumulation) scales the stored gradient too.
        scale(fusedLoss, by: 0.5).backward()
        scale(plainLoss, by: 0.5).backward()
        let fusedGradient = fusedInput.grad!.values, plainGradient = plainInput.grad!.values
        let gradientScale = plainGradient.map(abs).max() ?? 0
        XCTAssertGreaterThan(gradientScale, 0, file: file, line: line)
        let difference = zip(fusedGradient, plainGradient).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(difference, 1e-4 * gradientScale, "input gradient", file: file, line: line)
        for row in 0..<rows where labels[row] < 0 {  // ignored rows get no gradient
            XCTAssertTrue(fusedGradient[(row * columns)..<((row + 1) * columns)].allSatisfy { $0 == 0 }, "row \(row)",
                          file: file, line: line)
        }
    }

    private func randomValues(_ shape: [Int], seed: UInt64, scale: Float, requiresGrad: Bool = false) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor((0..<shape.reduce(1, *)).map { _ in generator.nextNormal() * scale }, shape: shape, requiresGrad: requiresGrad)
    }
}
