import Formats
import Foundation
import NN
import Tensors

/// Loads a Llama-family decoder (llama, mistral, qwen2) from a GGUF file, as
/// `AutoModelForCausalLM.from_pretrained(…, gguf_file:)` does: the configuration from the
/// metadata, every tensor dequantised to float32 and, for Llama and Mistral, the query and key
/// rows put back in Hugging Face order. With `quantized: true` the weights stored as Q4_0, Q4_1 or
/// Q8_0 blocks stay quantised instead (a frozen base for generation or QLoRA-style training, at
/// a fifth of the memory); other tensors are dequantised as usual.
///
/// ```swift
/// let (model, config) = try GGUFModelLoader.causalLanguageModel(url: url)
/// let quantized = try GGUFModelLoader(url: url).causalLanguageModel(quantized: true)
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

    /// Opens `url` and builds its model (float32, or with quantised weights kept; see `causalLanguageModel(quantized:)`).
    public static func causalLanguageModel(url: URL, quantized: Bool = false) throws -> (model: any CausalLanguageModel, config: DecoderConfig) {
        let loader = try GGUFModelLoader(url: url)
        return (try loader.causalLanguageModel(quantized: quantized), loader.config)
    }

    /// Builds the model and fills every parameter from the file. With `quantized`, the weights
    /// of linear layers and embeddings stored as Q4_0, Q4_1 or Q8_0 keep their blocks
    /// (`QuantizedMatrix`, in Hugging Face row order) and are frozen. Throws a `ModelError` naming
    /// the file and the GGUF tensor when a tensor is missing, has another shape than the
    /// parameter, cannot be dequantised, or is not used by the model.
    public func causalLanguageModel(quantized: Bool = false) throws -> any CausalLanguageModel {
        let model = DecoderLoader.makeModel(config)
        var used = Set<String>()
        if quantized {
            for (path, module) in model.namedModules() {
                guard let layer = module as? any QuantizableLayer,
                      let tensorName = try keepBlocks(of: layer, named: joinPath(path, "weight")) else { continue }
                used.insert(tensorName)
            }
        }
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
        let (tensor, heads) = try storedTensor(named: name, shape: parameter.shape)
        do {
            if let heads {
                let rows = parameter.shape[0], columns = parameter.count / max(rows, 1)
                let stored = try file.dequantize(tensor)  // GGUF row order
                let reordered = GGUFLlama.unpermuteQueryKey(stored, rows: rows, columns: columns, heads: heads)
                reordered.withUnsafeBufferPointer { parameter.pointer.update(from: $0.baseAddress!, count: reordered.count) }
            } else {
                try file.dequantizeRows(of: tensor, rows: 0..<tensor.rowCount, into: parameter.buffer)
            }
        } catch let error as GGUFError {
            throw ModelError(file: file.name, key: tensor.name, error.detail)
        }
        return tensor.name
    }

    /// Gives `layer` the blocks of the GGUF tensor of its weight `name` when they are in a format
    /// products read directly, rows in Hugging Face order, and returns the tensor's name; returns
    /// nil (the weight stays float32) for other formats.
    private func keepBlocks(of layer: any QuantizableLayer, named name: String) throws -> String? {
        let shape = layer.storedWeight.shape
        let (tensor, heads) = try storedTensor(named: name, shape: shape)
        guard let format = QuantizedMatrix.Format(tensor.type) else { return nil }
        let sourceRows = heads.map { GGUFLlama.queryKeySourceRows(rows: shape[0], heads: $0) }
        let matrix = try file.withUnsafeBytes(of: tensor) { blocks in
            QuantizedMatrix(format: format, rows: shape[0], columns: shape[1], blocks: blocks, sourceRows: sourceRows)
        }
        layer.quantize(matrix)
        return tensor.name
    }

    /// The GGUF tensor of parameter `name`, checked to exist and to have `shape`, and the number
    /// of heads whose query/key rows it stores permuted (nil for other tensors).
    private func storedTensor(named name: String, shape: [Int]) throws -> (tensor: GGUFTensorInfo, permutedHeads: Int?) {
        guard let tensorName = GGUFTensorNames.ggufName(forParameter: name) else {
            throw ModelError(file: file.name, key: name, "parameter has no GGUF tensor name")
        }
        guard file.containsTensor(named: tensorName) else {
            throw ModelError(file: file.name, key: tensorName, "tensor is missing (needed for \(name))")
        }
        let tensor = try file.tensor(named: tensorName)
        guard Self.sameShape(tensor.shape, shape) else {
            throw ModelError(file: file.name, key: tensorName,
                             "shape \(tensor.shape) (GGUF dimensions \(tensor.dimensions)) where \(name) needs \(shape)")
        }
        let heads = GGUFTensorNames.permutedHeads(forParameter: name, config: config)
        if let heads, shape[0] % (2 * heads) != 0 {
            throw ModelError(file: file.name, key: tensorName, "\(shape[0]) rows do not split into \(heads) heads of rotary pairs")
        }
        return (tensor, heads)
    }

    /// Shapes equal up to leading dimensions of size 1 (GGUF may store a vector as [1, n]).
    private static func sameShape(_ stored: [Int], _ expected: [Int]) -> Bool {
        Array(stored.drop { $0 == 1 }) == Array(expected.drop { $0 == 1 })
    }
}

extension QuantizedMatrix.Format {
    /// The block format of a GGML type that products read directly, or nil.
    init?(_ type: GGMLType) {
        switch type {
        case .q4_0: self = .q4_0
        case .q4_1: self = .q4_1
        case .q8_0: self = .q8_0
        default: return nil
        }
    }
}
