import Foundation
import Formats
import LoRA
import Models
import NN
import Tensors

/// The trained tensors of a run on disk: an adapter (`adapter_model.safetensors`, keys
/// `base_model.model.<path>`) or, for full and head training, `trained_parameters.safetensors`
/// keyed by parameter path.
public enum TrainedParameters {
    public static let fileName = "trained_parameters.safetensors"

    /// Writes every trainable parameter of `model`, streamed from the parameters a slice at a time
    /// (a full fine-tune's parameters are the whole model).
    public static func save(_ model: any Module, to directory: URL) throws {
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for (path, tensor) in model.trainableParameters() {
            try writer.add(path, shape: tensor.shape, storedAs: .F32, slices: tensor.storage.values(in:))
        }
        try writer.write(to: directory.appendingPathComponent(fileName))
    }

    /// Writes what a run trained into `directory` (created if needed): the adapter in PEFT's layout
    /// with LoRA, the trained parameters otherwise; then the run record beside it.
    public static func save(_ model: any Module, injection: LoRAInjection?, record: RunRecord, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if let injection {
            try AdapterFiles.save(injection, model: model, to: directory)
        } else {
            try save(model, to: directory)
        }
        try record.write(to: directory)
    }

    /// Copies the saved tensors (adapter or trained parameters) into `model`'s parameters,
    /// checking names and shapes.
    public static func restore(into model: any Module, from directory: URL, adapter: Bool) throws {
        let file = try SafeTensorsFile(contentsOf: directory.appendingPathComponent(adapter ? AdapterFiles.weightsName : fileName))
        let keyPrefix = adapter ? AdapterFiles.keyPrefix : ""
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.tensor) })
        let tables = model.embeddingTables()
        for name in file.names {
            let path = String(name.dropFirst(keyPrefix.count))
            guard name.hasPrefix(keyPrefix), let tensor = parameters[path] else {
                throw ModelError(file: file.url.path, key: name, "the model has no such parameter")
            }
            let entry = try file.entry(name)
            guard entry.shape == tensor.shape else {
                throw ModelError(file: file.url.path, key: name, "shape \(entry.shape) does not match \(tensor.shape) in the model")
            }
            tables[path]?.willOverwriteValues()
            try file.copyFloats(name, into: UnsafeMutableBufferPointer(start: tensor.pointer, count: tensor.count))
        }
    }
}
