import Foundation
import Models
import Formats
import NN
import Tensors

/// PEFT's adapter folder: `adapter_config.json` (the LoRA settings) and
/// `adapter_model.safetensors` with keys `base_model.model.<path>` (e.g.
/// `base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight`), so adapters move
/// between this toolkit and PEFT both ways.
public enum AdapterFiles {
    public static let configName = "adapter_config.json"
    public static let weightsName = "adapter_model.safetensors"
    public static let keyPrefix = "base_model.model."

    /// Writes both files into `directory` (each atomically).
    public static func save(_ injection: LoRAInjection, model: any Module, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for (path, tensor) in injection.adapterParameters(of: model) {
            try writer.add(keyPrefix + path, floats: tensor.values, shape: tensor.shape)
        }
        try writer.write(to: directory.appendingPathComponent(weightsName))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(injection.config), to: directory.appendingPathComponent(configName))
    }

    /// Reads `adapter_config.json`, naming the file and key on any problem.
    public static func readConfig(from directory: URL) throws -> LoRAConfig {
        let url = directory.appendingPathComponent(configName)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError(file: url.path, "cannot read the adapter config (\(error.localizedDescription))")
        }
        do {
            let config = try JSONDecoder().decode(LoRAConfig.self, from: data)
            try config.validate(file: url.path)
            return config
        } catch let error as ModelError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            throw ModelError(file: url.path, key: context.codingPath.map(\.stringValue).joined(separator: "."), context.debugDescription)
        } catch let DecodingError.typeMismatch(_, context) {
            throw ModelError(file: url.path, key: context.codingPath.map(\.stringValue).joined(separator: "."), "wrong type: \(context.debugDescription)")
        } catch {
            throw ModelError(file: url.path, "not a valid adapter config (\(error))")
        }
    }

    /// Puts the adapter in `directory` into `model`: injects LoRA as its config says, then loads
    /// every tensor. A tensor naming a parameter the model lacks, or of another shape, means the
    /// adapter was trained on a different base, and throws naming the key.
    @discardableResult
    public static func load(
        from directory: URL, into model: any Module, defaultModulesToSave: [String], outputHeads: [String],
        generator: inout SeededGenerator
    ) throws -> LoRAInjection {
        var config = try readConfig(from: directory)
        if config.modulesToSave == nil { config.modulesToSave = defaultModulesToSave }
        let injection: LoRAInjection
        do {
            injection = try LoRAInjection(config: config, model: model, outputHeads: outputHeads, generator: &generator)
        } catch let error as ModelError {
            let hint = error.key == "target_modules" ? " (an adapter for a different base model?)" : ""
            throw ModelError(file: directory.appendingPathComponent(configName).path, key: error.key, error.reason + hint)
        }
        let weightsURL = directory.appendingPathComponent(weightsName)
        let file = try SafeTensorsFile(contentsOf: weightsURL)
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.tensor) })
        let tables = model.embeddingTables()
        for name in file.names {
            guard name.hasPrefix(keyPrefix) else {
                throw ModelError(file: weightsURL.path, key: name, "adapter keys must start with \"\(keyPrefix)\"")
            }
            let path = stripAdapterName(String(name.dropFirst(keyPrefix.count)))
            guard let tensor = parameters[path] else {
                throw ModelError(file: weightsURL.path, key: name, "the model has no parameter \(path): an adapter for a different base model")
            }
            let entry = try file.entry(name)
            guard entry.shape == tensor.shape else {
                throw ModelError(file: weightsURL.path, key: name,
                                "shape \(entry.shape) does not match \(tensor.shape) in the model: an adapter for a different base model")
            }
            tables[path]?.willOverwriteValues()
            try file.copyFloats(name, into: UnsafeMutableBufferPointer(start: tensor.pointer, count: tensor.count))
        }
        return injection
    }

    /// PEFT sometimes writes the adapter name into keys (`lora_A.default.weight`); the path has none.
    static func stripAdapterName(_ path: String) -> String {
        path.replacingOccurrences(of: ".lora_A.default.", with: ".lora_A.")
            .replacingOccurrences(of: ".lora_B.default.", with: ".lora_B.")
            .replacingOccurrences(of: ".modules_to_save.default.", with: ".")
    }
}
