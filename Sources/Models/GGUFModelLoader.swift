import Formats
import Foundation
import NN
import Tensors

/// Loads a Llama-family decoder (llama, mistral, qwen2) from a GGUF file, as
/// `AutoModelForCausalLM.from_pretrained(…, gguf_file:)` does: the configuration from the
/// metadata, every tensor dequantised to float32 and, for Llama and Mistral, the query and key
/// rows put back in Hugging Face order.
///
/// ```swift
/// let (model, config) = try GGUFModelLoader.causalLanguageModel(url: url)
/// ```
///
/// The loader keeps the mapped `GGUFFile`, so that a caller can still reach the stored (quantised)
/// tensors after the model is built.
public final class GGUFModelLoader {
    /// The mapped file.
    public let file: GGUFFile
    /// The configuration its metadata describes.
    public let config: DecoderConfig

    /// Maps `url` and reads its configuration.
    public convenience init(url: URL) throws {
        try self.init(file: GGUFFile(contentsOf: url))
    }

    /// Reads the configuration of an open file.
    public init(file: GGUFFile) throws {
        self.file = file
        config = try DecoderConfig(gguf: file)
    }

    /// Opens `url` and builds its model.
    public static func causalLanguageModel(url: URL) throws -> (model: any CausalLanguageModel, config: DecoderConfig) {
        let loader = try GGUFModelLoader(url: url)
        return (try loader.causalLanguageModel(), loader.config)
    }

    /// Builds the model and fills every parameter from the file. Throws a `ModelError` naming the
    /// file and the GGUF tensor when a tensor is missing, has another shape than the parameter,
    /// cannot be dequantised, or is not used by the model.
    public func causalLanguageModel() throws -> any CausalLanguageModel {
        let model = DecoderLoader.makeModel(config)
        var used = Set<String>()
        for (path, parameter) in model.namedParameters() {
            let tensorName = try fill(parameter, named: path)
            used.insert(tensorName)
        }
        if let unused = file.tensors.first(where: { !used.contains($0.name) }) {
            throw ModelError(file: file.name, key: unused.name,
                             "tensor is not used by a \(config.architecture.rawValue) model of this configuration")
        }
        return model
    }

    /// The values of the Hugging Face parameter `name` of shape `shape`, row-major, in Hugging
    /// Face order (dequantised, query/key rows un-permuted).
    public func parameterValues(named name: String, shape: [Int]) throws -> [Float] {
        let parameter = Tensor(zeros: shape)
        _ = try fill(parameter, named: name)
        return parameter.values
    }

    /// Dequantises the GGUF tensor of parameter `name` into `parameter`'s storage and returns the
    /// tensor's name.
    private func fill(_ parameter: Tensor, named name: String) throws -> String {
        guard let tensorName = GGUFTensorNames.ggufName(forParameter: name) else {
            throw ModelError(file: file.name, key: name, "parameter has no GGUF tensor name")
        }
        guard file.containsTensor(named: tensorName) else {
            throw ModelError(file: file.name, key: tensorName, "tensor is missing (needed for \(name))")
        }
        let tensor = try file.tensor(named: tensorName)
        guard Self.sameShape(tensor.shape, parameter.shape) else {
            throw ModelError(file: file.name, key: tensorName,
                             "shape \(tensor.shape) (GGUF dimensions \(tensor.dimensions)) where \(name) needs \(parameter.shape)")
        }
        do {
            if let heads = GGUFTensorNames.permutedHeads(forParameter: name, config: config) {
                let rows = parameter.shape[0], columns = parameter.count / max(rows, 1)
                guard rows % (2 * heads) == 0 else {
                    throw ModelError(file: file.name, key: tensorName, "\(rows) rows do not split into \(heads) heads of rotary pairs")
                }
                let stored = try file.dequantize(tensor)  // GGUF row order
                let reordered = GGUFLlama.unpermuteQueryKey(stored, rows: rows, columns: columns, heads: heads)
                reordered.withUnsafeBufferPointer { parameter.pointer.update(from: $0.baseAddress!, count: reordered.count) }
            } else {
                try file.dequantizeRows(of: tensor, rows: 0..<tensor.rowCount, into: parameter.buffer)
            }
        } catch let error as GGUFError {
            throw ModelError(file: file.name, key: tensorName, error.detail)
        }
        return tensorName
    }

    /// Shapes equal up to leading dimensions of size 1 (GGUF may store a vector as [1, n]).
    private static func sameShape(_ stored: [Int], _ expected: [Int]) -> Bool {
        Array(stored.drop { $0 == 1 }) == Array(expected.drop { $0 == 1 })
    }
}
