import Formats
import Models
import NN
import Tensors
import TestSupport
import XCTest

/// Padding-free (packed) batches against padded ones and the reference: all-MiniLM-L6-v2's hidden
/// states, and training with dropout on, where both layouts must drop the same values.
final class PaddingFreeEncoderTests: XCTestCase {
    /// The 4 texts of `golden/models/minilm-encoder` (5, 19, 30 and 100 tokens) end to end.
    func testMiniLMHiddenStatesAndPoolerMatchReference() throws {
        var generator = SeededGenerator(seed: 0)
        let (loaded, _) = try EncoderLoader.sequenceClassifier(directory: Fixtures.miniLM, labelCount: 2, generator: &generator)
        let model = try XCTUnwrap(loaded as? BertForSequenceClassification)
        let golden = try SafeTensorsFile(contentsOf: Fixtures.golden.appendingPathComponent("models/minilm-encoder.safetensors"))
        let mask = try golden.int64s("attention_mask").map { Float($0) }
        let batch = PackedTokenBatch(sequences: unpaddedSequences(inputIDs: try golden.int32s("input_ids"), attentionMask: mask, batchSize: 4))
        XCTAssertEqual(batch.sequences.offsets, [0, 5, 24, 54, 154])

        let hidden = model.encode(batch, context: .evaluation())  // (154, 384)
        XCTAssertEqual(hidden.shape, [154, 384])
        let reference = try golden.floats("last_hidden_state")  // (4, 100, 384)
        let realRows = (0..<4).flatMap { row in (0..<100).filter { mask[row * 100 + $0] == 1 }.map { row * 100 + $0 } }
        let expected = realRows.flatMap { reference[($0 * 384)..<($0 * 384 + 384)] }
        Closeness.assertClose(hidden.values, expected, tolerance: 1e-4, "last_hidden_state")
        let pooled = model.pooled(batch, context: .evaluation())
        Closeness.assertClose(pooled.values, try golden.floats("pooler_output"), tolerance: 1e-4, "pooler_output")
    }

    func testTinyBertDropsTheSameValuesPaddingFree() throws {
        try checkTrainingPass("bert")
    }

    func testTinyDistilBertDropsTheSameValuesPaddingFree() throws {
        try checkTrainingPass("distilbert")
    }

    /// One training pass (dropout on, full fine-tuning) from the same generator, padded and then
    /// padding-free: the same logits, loss and gradients, and the generator left in the same state.
    private func checkTrainingPass(_ name: String) throws {
        let directory = Fixtures.golden.appendingPathComponent("tiny/\(name)")
        var generator = SeededGenerator(seed: 0)
        let (model, _) = try EncoderLoader.sequenceClassifier(directory: directory, labelCount: 3, generator: &generator)
        model.setTrainable(true)
        let expected = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("expected.safetensors"))
        let ids = try expected.int32s("input_ids"), mask = try expected.int64s("attention_mask").map { Float($0) }
        let labels = try expected.int32s("labels")
        let padded = TokenBatch(inputIDs: ids, attentionMask: mask, batchSize: 2, sequenceLength: 10)
        let packed = PackedTokenBatch(sequences: unpaddedSequences(inputIDs: ids, attentionMask: mask, batchSize: 2))

        func trainingPass(_ batch: some EncoderInput) -> (logits: [Float], loss: Float, gradients: [String: [Float]], generator: SeededGenerator) {
            let context = ForwardContext(isTraining: true, generator: SeededGenerator(seed: 5))
            let logits = model.logits(batch, context: context)
            let loss = crossEntropy(logits: logits, labels: labels)
            loss.backward()
            let gradients = Dictionary(uniqueKeysWithValues: model.namedParameters().compactMap { path, tensor in
                tensor.grad.map { (path, $0.values) }
            })
            model.clearGradients()
            return (logits.values, loss.item, gradients, context.generator)
        }
        let reference = trainingPass(padded), actual = trainingPass(packed)

        let evaluation = model.logits(padded, context: .evaluation()).values
        XCTAssertGreaterThan(Closeness.maxAbsoluteDifference(reference.logits, evaluation), 1e-3, "\(name): dropout changed nothing")
        Closeness.assertClose(actual.logits, reference.logits, tolerance: 1e-5, "\(name) training logits")
        XCTAssertEqual(actual.loss, reference.loss, accuracy: 1e-5, "\(name) training loss")
        XCTAssertEqual(Set(actual.gradients.keys), Set(reference.gradients.keys))
        for (path, gradient) in reference.gradients {
            Closeness.assertGradientClose(actual.gradients[path] ?? [], gradient, "\(name) ∂loss/∂\(path)")
        }
        XCTAssertEqual(actual.generator, reference.generator, "\(name): the generator after the pass")
    }
}
