import Formats
import Models
import NN
import Tensors
import TestSupport
import XCTest

/// all-MiniLM-L6-v2 (real weights) against `golden/models/minilm-encoder.safetensors`.
final class MiniLMEncoderParityTests: XCTestCase {
    func testLastHiddenStateAndPoolerMatchReference() throws {
        var generator = SeededGenerator(seed: 0)
        let (loaded, report) = try EncoderLoader.sequenceClassifier(directory: Fixtures.miniLM, labelCount: 2, generator: &generator)
        let model = try XCTUnwrap(loaded as? BertForSequenceClassification)
        XCTAssertEqual(report.initialized, ["classifier.weight", "classifier.bias"], "only the new head is initialised")
        XCTAssertEqual(model.parameterCount() - 770, 22_713_216, "BertModel parameters of all-MiniLM-L6-v2")

        let golden = try SafeTensorsFile(contentsOf: Fixtures.golden.appendingPathComponent("models/minilm-encoder.safetensors"))
        let mask = try golden.int64s("attention_mask").map { Float($0) }
        let batch = TokenBatch(inputIDs: try golden.int32s("input_ids"), attentionMask: mask, batchSize: 4, sequenceLength: 100)
        let hidden = model.encode(batch, context: .evaluation())  // (4, 100, 384)
        XCTAssertEqual(hidden.shape, [4, 100, 384])
        let realPositions = mask.flatMap { [Bool](repeating: $0 == 1, count: 384) }
        Closeness.assertClose(hidden.values, try golden.floats("last_hidden_state"), tolerance: 1e-4, mask: realPositions, "last_hidden_state")
        let pooled = model.pooled(batch, context: .evaluation())
        Closeness.assertClose(pooled.values, try golden.floats("pooler_output"), tolerance: 1e-4, "pooler_output")
    }
}
