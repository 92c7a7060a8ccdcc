import Foundation
import Formats
import NN
import Tensors

/// A `checkpoint-N` folder: the trained state (adapter or parameters), the optimizer's moments,
/// the random generator, the trainer state and the arguments — everything needed to resume
/// exactly. Written into a temporary folder and renamed, so it is complete or absent.
enum TrainingCheckpoint {
    static let optimizerName = "optimizer.safetensors"
    static let randomStateName = "rng_state.json"
    static let argumentsName = "training_args.json"

    struct RandomState: Codable {
        var generator: SeededGenerator
    }

    static func directoryName(step: Int) -> String { "checkpoint-\(step)" }

    static func save(
        to url: URL, task: any TrainingTask, optimizer: AdamW, state: TrainerState,
        generator: SeededGenerator, arguments: TrainingArguments
    ) throws {
        try AtomicDirectory.create(at: url) { folder in
            try task.save(to: folder)
            var writer = SafeTensorsWriter(metadata: ["step": String(optimizer.stepCount)])
            for (key, shape, slices) in optimizer.state() {
                try writer.add(key, shape: shape, storedAs: .F32, slices: slices)
            }
            try writer.write(to: folder.appendingPathComponent(optimizerName))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try AtomicFile.write(try encoder.encode(RandomState(generator: generator)), to: folder.appendingPathComponent(randomStateName))
            try AtomicFile.write(try arguments.json(), to: folder.appendingPathComponent(argumentsName))
            try state.write(to: folder)
        }
    }

    /// Restores model, optimizer and generator; returns the trainer state.
    static func restore(
        from url: URL, task: any TrainingTask, optimizer: AdamW, generator: inout SeededGenerator
    ) throws -> TrainerState {
        try task.restoreTrainedState(from: url)
        let state = try TrainerState.read(from: url)
        let optimizerFile = try SafeTensorsFile(contentsOf: url.appendingPathComponent(optimizerName))
        // The optimizer's own count of updates, which its bias correction uses: fewer than the
        // run's steps when batches with a non-finite loss were skipped.
        let stepCount = optimizerFile.metadata["step"].flatMap { Int($0) } ?? state.globalStep
        try optimizer.restore(stepCount: stepCount) { key in
            guard optimizerFile.contains(key) else {
                throw ConfigError(file: optimizerFile.url.path, key: key, "missing from the optimizer state")
            }
            return try optimizerFile.floats(key)
        }
        let randomURL = url.appendingPathComponent(randomStateName)
        do {
            generator = try JSONDecoder().decode(RandomState.self, from: try Foundation.Data(contentsOf: randomURL)).generator
        } catch {
            throw ConfigError(file: randomURL.path, key: "generator", "cannot read the random state (\(error))")
        }
        return state
    }

    /// The checkpoint `value` names: a folder holding a trainer state, or `latest` in `outputDirectory`.
    static func resolve(_ value: String, in outputDirectory: URL) throws -> URL {
        if value == "latest" {
            guard let last = existing(in: outputDirectory).last else {
                throw TrainingError("\(outputDirectory.path): no checkpoint-N folder to resume from")
            }
            return last.url
        }
        let url = URL(fileURLWithPath: value)
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent(TrainerState.fileName).path) else {
            throw TrainingError("\(url.path): not a checkpoint (no \(TrainerState.fileName))")
        }
        return url
    }

    /// Removes the oldest checkpoints beyond `limit` (`save_total_limit`), never the best or the
    /// newest; called after the newest is complete.
    static func prune(in outputDirectory: URL, keeping limit: Int?, state: TrainerState) throws {
        guard let limit else { return }
        let best = state.bestModelCheckpoint.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        var checkpoints = existing(in: outputDirectory)  // oldest first
        while checkpoints.count > limit,
              let oldest = checkpoints.first(where: { $0.url.standardizedFileURL.path != best && $0.step != state.globalStep }) {
            try FileManager.default.removeItem(at: oldest.url)
            checkpoints.removeAll { $0.step == oldest.step }
        }
    }

    /// Removes the hidden folders that checkpoints being written were built in (see
    /// `AtomicDirectory`) when the process that wrote them died before renaming them: a run killed
    /// while saving leaves one behind, as large as a checkpoint. Only a run resuming in
    /// `outputDirectory` calls this, so no other run is writing there.
    static func removeAbandonedFolders(in outputDirectory: URL) {
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: outputDirectory.path)) ?? []
        for name in contents where name.hasPrefix(".checkpoint-") && name.contains(".tmp-") {
            try? FileManager.default.removeItem(at: outputDirectory.appendingPathComponent(name))
        }
    }

    /// The checkpoint folders in `outputDirectory`, oldest (lowest step) first.
    static func existing(in outputDirectory: URL) -> [(step: Int, url: URL)] {
        let contents = (try? FileManager.default.contentsOfDirectory(at: outputDirectory, includingPropertiesForKeys: nil)) ?? []
        return contents.compactMap { url -> (Int, URL)? in
            let name = url.lastPathComponent
            guard name.hasPrefix("checkpoint-"), let step = Int(name.dropFirst("checkpoint-".count)) else { return nil }
            return (step, url)
        }.sorted { $0.0 < $1.0 }
    }
}
