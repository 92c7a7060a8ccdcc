import Foundation
import Formats
import NN
import Tensors

/// The weight files of a model folder: `model.safetensors`, or the shards that
/// `model.safetensors.index.json` lists. Files are memory-mapped; nothing is read until used.
public struct Checkpoint {
    public let directory: URL
    public let files: [SafeTensorsFile]
    /// Which file holds each tensor.
    private let fileForKey: [String: Int]

    public init(files: [SafeTensorsFile], directory: URL) {
        self.directory = directory
        self.files = files
        var index: [String: Int] = [:]
        for (position, file) in files.enumerated() {
            for name in file.names { index[name] = position }
        }
        fileForKey = index
    }

    /// Opens the weights of a model folder.
    public static func open(directory: URL) throws -> Checkpoint {
        let single = directory.appendingPathComponent("model.safetensors")
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: single.path) {
            return Checkpoint(files: [try SafeTensorsFile(contentsOf: single)], directory: directory)
        }
        if fileManager.fileExists(atPath: index.path) {
            let shardNames = try readShardNames(index)
            let files = try shardNames.map { name -> SafeTensorsFile in
                guard !name.contains("/"), !name.hasPrefix(".") else {
                    throw ModelError(file: index.path, key: "weight_map", "shard name \"\(name)\" must be a file in the folder")
                }
                return try SafeTensorsFile(contentsOf: directory.appendingPathComponent(name))
            }
            // A tensor in two shards would be read from whichever came last: refuse the folder.
            var shardOfTensor: [String: String] = [:]
            for (name, file) in zip(shardNames, files) {
                for tensor in file.names {
                    if let other = shardOfTensor.updateValue(name, forKey: tensor) {
                        throw ModelError(file: index.path, key: tensor, "tensor is in both \(other) and \(name)")
                    }
                }
            }
            return Checkpoint(files: files, directory: directory)
        }
        if fileManager.fileExists(atPath: directory.appendingPathComponent("pytorch_model.bin").path) {
            throw ModelError(file: directory.appendingPathComponent("pytorch_model.bin").path,
                             "PyTorch pickle checkpoints are not read (they can run code); use the model's safetensors files")
        }
        throw ModelError(file: single.path, "no model.safetensors or model.safetensors.index.json in the folder")
    }

    private static func readShardNames(_ url: URL) throws -> [String] {
        let data = try Data(contentsOf: url)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let weightMap = object["weight_map"] as? [String: String] else {
            throw ModelError(file: url.path, key: "weight_map", "expected an object mapping tensor names to shard files")
        }
        return Array(Set(weightMap.values)).sorted()
    }

    public var keys: [String] { fileForKey.keys.sorted() }
    public func contains(_ key: String) -> Bool { fileForKey[key] != nil }

    public func file(for key: String) -> SafeTensorsFile? { fileForKey[key].map { files[$0] } }

    /// Copies the tensor `key` into `tensor`, checking the shape.
    public func copy(_ key: String, into tensor: Tensor) throws {
        guard let file = file(for: key) else { throw ModelError(file: directory.path, key: key, "missing from the checkpoint") }
        let entry = try file.entry(key)
        guard entry.shape == tensor.shape else {
            throw ModelError(file: file.url.path, key: key,
                             "shape \(entry.shape) in the checkpoint does not match \(tensor.shape) in the model")
        }
        try file.copyFloats(key, into: UnsafeMutableBufferPointer(start: tensor.pointer, count: tensor.count))
    }
}

/// What loading did: parameters filled from the checkpoint, parameters left to initialisation
/// (new heads), and checkpoint tensors deliberately not used (pre-training heads, buffers).
public struct LoadReport: Sendable {
    public var loaded: [String] = []
    public var initialized: [String] = []
    public var ignored: [String] = []
}

/// The rules that map a model's parameters to checkpoint keys.
public struct CheckpointMapping {
    /// The checkpoint key of a parameter path (e.g. strips a `bert.` prefix the checkpoint lacks).
    public var key: (String) -> String
    /// Parameters that may be absent (new heads), to be initialised instead.
    public var mayBeMissing: (String) -> Bool
    /// Checkpoint tensors that are expected and not used.
    public var mayBeUnused: (String) -> Bool
    /// Other names a key may have in older checkpoints (`LayerNorm.gamma` for `LayerNorm.weight`).
    public var aliases: (String) -> [String]

    public init(key: @escaping (String) -> String, mayBeMissing: @escaping (String) -> Bool = { _ in false },
                mayBeUnused: @escaping (String) -> Bool = { _ in false }, aliases: @escaping (String) -> [String] = { _ in [] }) {
        self.key = key
        self.mayBeMissing = mayBeMissing
        self.mayBeUnused = mayBeUnused
        self.aliases = aliases
    }
}

extension Module {
    /// Fills every parameter from the checkpoint. Throws, naming the key, on a missing tensor, a
    /// shape mismatch, or a checkpoint tensor that nothing uses.
    public func load(from checkpoint: Checkpoint, mapping: CheckpointMapping) throws -> LoadReport {
        var report = LoadReport()
        var used = Set<String>()
        let mapped = try mapEmbeddingTables(from: checkpoint, mapping: mapping)
        for (path, tensor) in namedParameters() {
            let primary = mapping.key(path)
            guard let key = ([primary] + mapping.aliases(primary)).first(where: checkpoint.contains) else {
                if mapping.mayBeMissing(path) { report.initialized.append(path); continue }
                throw ModelError(file: checkpoint.directory.path, key: primary, "missing from the checkpoint (needed for \(path))")
            }
            if !mapped.contains(path) { try checkpoint.copy(key, into: tensor) }
            used.insert(key)
            report.loaded.append(path)
        }
        for key in checkpoint.keys where !used.contains(key) {
            guard mapping.mayBeUnused(key) else {
                throw ModelError(file: checkpoint.file(for: key)?.url.path ?? checkpoint.directory.path, key: key,
                                 "the checkpoint has this tensor but the model has no such parameter (a different architecture?)")
            }
            report.ignored.append(key)
        }
        return report
    }

    /// Points every float32 embedding table at its tensor in the checkpoint's file, mapped
    /// copy-on-write, instead of copying it: a frozen table (a LoRA or head-only run) then holds
    /// in memory only the pages of the rows being looked up (they are dropped after each lookup),
    /// and a trained one copies a page when it is first written. Tables in other dtypes, or of
    /// another shape (reported by the copy), are left to be copied. Returns the parameter paths
    /// mapped.
    private func mapEmbeddingTables(from checkpoint: Checkpoint, mapping: CheckpointMapping) throws -> Set<String> {
        var mapped = Set<String>()
        for (modulePath, module) in namedModules() {
            guard let embedding = module as? Embedding, case .dense(let table) = embedding.storedWeight else { continue }
            let path = joinPath(modulePath, "weight"), primary = mapping.key(path)
            guard let key = ([primary] + mapping.aliases(primary)).first(where: checkpoint.contains),
                  let file = checkpoint.file(for: key), try file.entry(key).shape == table.shape,
                  let floats = try file.mappedFloats(key)
            else { continue }
            let storage = TensorStorage(viewing: floats.pointer, count: floats.count, owner: floats)
            embedding.replaceWeight(Tensor(shape: table.shape, storage: storage, requiresGrad: table.requiresGrad),
                                    releasingPagesWith: { floats.releaseResidentPages() })
            mapped.insert(path)
        }
        return mapped
    }
}
