import Foundation
import NN
import Tensors
@testable import Training
import XCTest

/// A training task of one linear layer, for checkpoint tests that need no model files.
private final class LinearLayerTask: TrainingTask {
    let layer = Linear(inFeatures: 3, outFeatures: 2)
    var model: any Module { layer }
    var trainExampleCount: Int { 4 }
    var trainExampleLengths: [Int] { [1, 1, 1, 1] }
    func lossWeight(examples indices: [Int]) -> Int { indices.count }
    func loss(examples indices: [Int], context: ForwardContext) -> BatchLoss { BatchLoss(loss: Tensor(scalar: 0), weight: indices.count, tokens: 0) }
    func evaluate(batchSize: Int) -> EvaluationMetrics? { nil }
    func save(to directory: URL) throws {}
    func restoreTrainedState(from directory: URL) throws {}
}

/// What a resumed run takes from the checkpoint folders: the optimizer's own count of updates,
/// and nothing of a checkpoint a killed run left half written.
final class CheckpointResumeTests: XCTestCase {
    /// A resumed optimizer continues from its own count of updates, not the run's step: after a
    /// skipped non-finite batch the two differ, and AdamW's bias correction depends on the count.
    func testResumeRestoresTheOptimizersOwnStepCount() throws {
        let task = LinearLayerTask()
        task.layer.setTrainable(true)
        let optimizer = AdamW(model: task.model, settings: AdamW.Settings(weightDecay: 0))
        // Two updates were made; the third step's batch was skipped.
        try optimizer.restore(stepCount: 2) { key in [Float](repeating: 0.5, count: key.hasPrefix("bias") ? 2 : 6) }
        var state = TrainerState()
        state.globalStep = 3
        state.maxSteps = 4
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try TrainingCheckpoint.save(to: folder, task: task, optimizer: optimizer, state: state,
                                    generator: SeededGenerator(seed: 1), arguments: TrainingArguments())

        let resumed = AdamW(model: task.model, settings: AdamW.Settings(weightDecay: 0))
        var generator = SeededGenerator(seed: 2)
        let restoredState = try TrainingCheckpoint.restore(from: folder, task: task, optimizer: resumed, generator: &generator)
        XCTAssertEqual(restoredState.globalStep, 3)
        XCTAssertEqual(resumed.stepCount, 2)
        XCTAssertEqual(generator, SeededGenerator(seed: 1))
    }

    /// A folder a killed run was writing a checkpoint into is removed when the run resumes; the
    /// checkpoints themselves stay.
    func testAbandonedCheckpointFoldersAreRemoved() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("output-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: output) }
        let names = ["checkpoint-2", ".checkpoint-4.tmp-0C2F", "notes.txt"]
        for name in names { try FileManager.default.createDirectory(at: output.appendingPathComponent(name), withIntermediateDirectories: true) }
        TrainingCheckpoint.removeAbandonedFolders(in: output)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: output.path).sorted(), ["checkpoint-2", "notes.txt"])
    }
}
