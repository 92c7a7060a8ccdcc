import Foundation
import Models
import NN
import Tensors

/// Puts LoRA into a model as PEFT's `get_peft_model` does: every parameter is frozen, each
/// targeted linear layer is wrapped by a trainable `LoRALayer`, the `modules_to_save` (heads)
/// train in full, and biases train as the `bias` setting says.
public struct LoRAInjection {
    public let config: LoRAConfig
    /// Paths of the wrapped layers, in tree order.
    public private(set) var wrappedPaths: [String] = []
    /// Paths of the modules trained in full and saved with the adapter.
    public private(set) var savedModulePaths: [String] = []

    /// - outputHeads: module names that `all-linear` leaves out (the classifier, `lm_head`).
    public init(config: LoRAConfig, model: any Module, outputHeads: [String], generator: inout SeededGenerator) throws {
        self.config = config
        try config.validate(file: "LoRA settings")
        model.setTrainable(false)
        let modules = model.namedModules()
        let saveNames = config.modulesToSave ?? []
        let saved = modules.map(\.path).filter { path in !path.isEmpty && saveNames.contains { path.hasSuffix($0) } }
        savedModulePaths = saved
        let isSaved = { (path: String) in saved.contains { path == $0 || path.hasPrefix($0 + ".") } }

        for (path, module) in modules {
            guard let layer = module as? Linear, !isSaved(path),
                  LoRAInjection.isTarget(path, config.targetModules, outputHeads: outputHeads) else { continue }
            if layer.adapter != nil { throw ModelError(file: "LoRA settings", key: "target_modules", "\(path) already has an adapter") }
            layer.adapter = LoRALayer(wrapping: layer, rank: config.rank, scaling: config.scaling,
                                      dropout: Float(config.dropout), generator: &generator)
            wrappedPaths.append(path)
        }
        guard !wrappedPaths.isEmpty else {
            throw ModelError(file: "LoRA settings", key: "target_modules",
                            "\(config.targetModules) matches no linear layer of the model")
        }
        for path in saved {
            guard let module = model.module(at: path) else { continue }
            if let (quantizedPath, matrix) = module.namedQuantizedWeights(prefix: path).first {
                throw ModelError(file: "LoRA settings", key: "modules_to_save",
                                 "\(quantizedPath) is quantised (\(matrix.format.rawValue)) and cannot train in full; load the base in float32 (quantized_base off, --no-quantized-base)")
            }
            module.setTrainable(true)
        }
        switch config.bias {
        case .none: break
        case .all:
            for (path, tensor) in model.namedParameters() where path.hasSuffix(".bias") { tensor.requiresGrad = true }
        case .loraOnly:
            for path in wrappedPaths { (model.module(at: path) as? Linear)?.bias?.requiresGrad = true }
        }
    }

    /// PEFT's `check_target_module_exists`: a regex must match the whole path; a name must equal
    /// the path or be its last components.
    public static func isTarget(_ path: String, _ targets: TargetModules, outputHeads: [String]) -> Bool {
        switch targets {
        case .names(let names):
            return names.contains { path == $0 || path.hasSuffix("." + $0) }
        case .pattern(let pattern):
            guard let regex = try? Regex(pattern) else { return false }
            return (try? regex.wholeMatch(in: path)) != nil
        case .allLinear:
            let last = path.split(separator: ".").last.map(String.init) ?? path
            return !outputHeads.contains(last)
        }
    }

    /// The LoRA layers of the model, by the path of the layer they wrap.
    public static func layers(of model: any Module) -> [(path: String, layer: LoRALayer)] {
        model.namedModules().compactMap { entry in
            ((entry.module as? Linear)?.adapter as? LoRALayer).map { (entry.path, $0) }
        }
    }

    /// Adds every adapter into its base weight (`merge_and_unload` keeps the merged weights).
    public static func merge(_ model: any Module) { for (_, layer) in layers(of: model) { layer.merge() } }
    public static func unmerge(_ model: any Module) { for (_, layer) in layers(of: model) { layer.unmerge() } }

    /// Switches every adapter on or off (`disable_adapter`).
    public static func setEnabled(_ enabled: Bool, in model: any Module) {
        for (_, layer) in layers(of: model) { layer.isEnabled = enabled }
    }

    /// Merges the adapters and removes them, leaving a plain model (`merge_and_unload`).
    public static func mergeAndUnload(_ model: any Module) {
        for (path, layer) in layers(of: model) {
            layer.merge()
            (model.module(at: path) as? Linear)?.adapter = nil
        }
    }

    /// The parameters an adapter file holds: LoRA matrices, saved modules, trained biases, by path.
    public func adapterParameters(of model: any Module) -> [(path: String, tensor: Tensor)] {
        let saved = savedModulePaths
        return model.namedParameters().filter { path, tensor in
            path.contains(".lora_A.") || path.contains(".lora_B.")
                || saved.contains { path.hasPrefix($0 + ".") }
                || (config.bias != .none && path.hasSuffix(".bias") && tensor.requiresGrad)
        }
    }

    /// PEFT's `print_trainable_parameters` line. PEFT counts each saved module twice in "all params"
    /// (the original and its trainable copy); so does this, to print the same figures.
    public func trainableParametersLine(for model: any Module) -> String {
        let trainable = model.parameterCount(trainableOnly: true)
        let savedCopies = savedModulePaths.reduce(0) { $0 + (model.module(at: $1)?.parameterCount() ?? 0) }
        return LoRAInjection.formatParameterLine(trainable: trainable, all: model.parameterCount() + savedCopies)
    }

    /// `trainable params: 19,202 || all params: 22,733,188 || trainable%: 0.0845`
    public static func formatParameterLine(trainable: Int, all: Int) -> String {
        let percent = all == 0 ? 0 : 100 * Double(trainable) / Double(all)
        return "trainable params: \(groupedThousands(trainable)) || all params: \(groupedThousands(all)) || trainable%: \(String(format: "%.4f", percent))"
    }

    static func groupedThousands(_ value: Int) -> String {
        let digits = Array(String(value))
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return result
    }
}
