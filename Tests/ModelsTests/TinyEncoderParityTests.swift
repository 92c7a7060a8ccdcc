import Formats
import Models
import NN
import Tensors
import TestSupport
import XCTest

/// The tiny BERT and DistilBERT of `golden/tiny/` against the reference: logits, loss and the
/// gradient of every parameter (full fine-tuning's backward pass), padded as the reference ran
/// them and padding-free.
final class TinyEncoderParityTests: XCTestCase {
    func testBertLogitsLossAndAllGradients() throws {
        try checkTinyEncoder("bert", paddingFree: false)
    }

    func testDistilBertLogitsLossAndAllGradients() throws {
        try checkTinyEncoder("distilbert", paddingFree: false)
    }

    func testPaddingFreeBertLogitsLossAndAllGradients() throws {
        try checkTinyEncoder("bert", paddingFree: true)
    }

    func testPaddingFreeDistilBertLogitsLossAndAllGradients() throws {
        try checkTinyEncoder("distilbert", paddingFree: true)
    }

    private func checkTinyEncoder(_ name: String, paddingFree: Bool) throws {
        let directory = Fixtures.golden.appendingPathComponent("tiny/\(name)")
        var generator = SeededGenerator(seed: 0)
        let (model, report) = try EncoderLoader.sequenceClassifier(directory: directory, labelCount: 3, generator: &generator)
        XCTAssertTrue(report.initialized.isEmpty, "the tiny checkpoint holds its head: \(report.initialized)")
        let expected = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("expected.safetensors"))
        let ids = try expected.int32s("input_ids"), mask = try expected.int64s("attention_mask").map { Float($0) }
        let batch: any EncoderInput = paddingFree
            ? PackedTokenBatch(sequences: unpaddedSequences(inputIDs: ids, attentionMask: mask, batchSize: 2))  // 10 + 7 tokens
            : TokenBatch(inputIDs: ids, attentionMask: mask, batchSize: 2, sequenceLength: 10)
        let labels = try expected.int32s("labels")

        model.setTrainable(true)
        let logits = model.logits(batch, context: .evaluation())
        Closeness.assertClose(logits.values, try expected.floats("logits"), tolerance: 1e-4, "\(name) logits")
        let loss = crossEntropy(logits: logits, labels: labels)
        XCTAssertEqual(loss.item, try expected.floats("loss")[0], accuracy: 1e-5)
        loss.backward()

        let grads = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("base_grads.safetensors"))
        let parameters = model.namedParameters()
        XCTAssertEqual(Set(parameters.map(\.path)), Set(grads.names), "parameter paths are the checkpoint keys")
        for (path, tensor) in parameters {
            let reference = try grads.floats(path)
            let actual = tensor.grad?.values ?? [Float](repeating: 0, count: tensor.count)
            Closeness.assertGradientClose(actual, reference, "\(name) ∂loss/∂\(path)")
        }
    }
}
