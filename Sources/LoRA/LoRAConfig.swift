import Foundation
import Models

/// Which modules get LoRA, as PEFT's `target_modules`: a list of names (a module matches when its
/// path equals a name or ends with "." + name), one regular expression that must match the whole
/// path, or `all-linear` (every linear layer except the output head).
public enum TargetModules: Sendable, Equatable, Codable {
    case names([String])
    case pattern(String)
    case allLinear

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let names = try? container.decode([String].self) {
            self = .names(names)
        } else {
            let value = try container.decode(String.self)
            self = value == "all-linear" ? .allLinear : .pattern(value)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .names(let names): try container.encode(names.sorted())
        case .pattern(let pattern): try container.encode(pattern)
        case .allLinear: try container.encode("all-linear")
        }
    }

    /// Parses a command-line value: "all-linear", "re:<regex>", or comma-separated names.
    public init(commandLine value: String) {
        if value == "all-linear" { self = .allLinear }
        else if value.hasPrefix("re:") { self = .pattern(String(value.dropFirst(3))) }
        else { self = .names(value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
    }
}

/// Which biases train alongside LoRA (PEFT's `bias`).
public enum LoRABias: String, Sendable, Codable, CaseIterable {
    case none, all
    case loraOnly = "lora_only"
}

/// LoRA settings with PEFT's names and defaults; `adapter_config.json` is this, encoded.
public struct LoRAConfig: Sendable, Equatable {
    public var rank: Int = 8
    public var alpha: Double = 8
    public var dropout: Double = 0
    public var targetModules: TargetModules = .names(["query", "value"])
    public var bias: LoRABias = .none
    /// Modules trained in full and saved with the adapter (heads); nil lets the task decide.
    public var modulesToSave: [String]? = nil
    /// Scale by alpha/√r instead of alpha/r.
    public var useRSLoRA = false
    /// The base weight is stored (in, out), as GPT-2's Conv1D.
    public var fanInFanOut = false
    public var taskType: String? = nil
    public var baseModelNameOrPath: String? = nil
    public var inferenceMode = false

    public init() {}

    /// The factor on B·A: alpha/r, or alpha/√r with rsLoRA.
    public var scaling: Float {
        useRSLoRA ? Float(alpha / Double(rank).squareRoot()) : Float(alpha / Double(rank))
    }

    /// Throws when a value is out of range, naming the key.
    public func validate(file: String) throws {
        if rank <= 0 || rank > 65_536 { throw ModelError(file: file, key: "r", "rank \(rank) must be between 1 and 65536") }
        if !alpha.isFinite || alpha <= 0 { throw ModelError(file: file, key: "lora_alpha", "alpha \(alpha) must be a positive number") }
        if !(0..<1).contains(dropout) { throw ModelError(file: file, key: "lora_dropout", "dropout \(dropout) must be in [0, 1)") }
        if case .names(let names) = targetModules, names.isEmpty {
            throw ModelError(file: file, key: "target_modules", "no target modules given")
        }
        if case .pattern(let pattern) = targetModules, (try? Regex(pattern)) == nil {
            throw ModelError(file: file, key: "target_modules", "\"\(pattern)\" is not a valid regular expression")
        }
    }
}

extension LoRAConfig: Codable {
    enum CodingKeys: String, CodingKey {
        case rank = "r", alpha = "lora_alpha", dropout = "lora_dropout", targetModules = "target_modules", bias
        case modulesToSave = "modules_to_save", useRSLoRA = "use_rslora", fanInFanOut = "fan_in_fan_out"
        case taskType = "task_type", baseModelNameOrPath = "base_model_name_or_path", inferenceMode = "inference_mode"
        case peftType = "peft_type", useDoRA = "use_dora", rankPattern = "rank_pattern", alphaPattern = "alpha_pattern"
        case initLoRAWeights = "init_lora_weights", layersToTransform = "layers_to_transform", layersPattern = "layers_pattern"
        case revision, loraBias = "lora_bias", exclude = "exclude_modules"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let peftType = try container.decodeIfPresent(String.self, forKey: .peftType) ?? "LORA"
        guard peftType == "LORA" else {
            throw DecodingError.dataCorruptedError(forKey: .peftType, in: container, debugDescription: "\"\(peftType)\" adapters are not supported (only LORA)")
        }
        if try container.decodeIfPresent(Bool.self, forKey: .useDoRA) == true {
            throw DecodingError.dataCorruptedError(forKey: .useDoRA, in: container, debugDescription: "DoRA adapters are not supported")
        }
        for key in [CodingKeys.rankPattern, .alphaPattern] {
            if let pattern = try container.decodeIfPresent([String: Double].self, forKey: key), !pattern.isEmpty {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "per-module ranks or alphas are not supported")
            }
        }
        if try container.decodeIfPresent([Int].self, forKey: .layersToTransform) != nil {
            throw DecodingError.dataCorruptedError(forKey: .layersToTransform, in: container, debugDescription: "layers_to_transform is not supported")
        }
        rank = try container.decodeIfPresent(Int.self, forKey: .rank) ?? 8
        alpha = try container.decodeIfPresent(Double.self, forKey: .alpha) ?? 8
        dropout = try container.decodeIfPresent(Double.self, forKey: .dropout) ?? 0
        targetModules = try container.decodeIfPresent(TargetModules.self, forKey: .targetModules) ?? .names(["query", "value"])
        bias = try container.decodeIfPresent(LoRABias.self, forKey: .bias) ?? .none
        modulesToSave = try container.decodeIfPresent([String].self, forKey: .modulesToSave)
        useRSLoRA = try container.decodeIfPresent(Bool.self, forKey: .useRSLoRA) ?? false
        fanInFanOut = try container.decodeIfPresent(Bool.self, forKey: .fanInFanOut) ?? false
        taskType = try container.decodeIfPresent(String.self, forKey: .taskType)
        baseModelNameOrPath = try container.decodeIfPresent(String.self, forKey: .baseModelNameOrPath)
        inferenceMode = try container.decodeIfPresent(Bool.self, forKey: .inferenceMode) ?? false
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("LORA", forKey: .peftType)
        try container.encode(rank, forKey: .rank)
        try container.encode(alpha, forKey: .alpha)
        try container.encode(dropout, forKey: .dropout)
        try container.encode(targetModules, forKey: .targetModules)
        try container.encode(bias, forKey: .bias)
        try container.encode(modulesToSave, forKey: .modulesToSave)
        try container.encode(useRSLoRA, forKey: .useRSLoRA)
        try container.encode(fanInFanOut, forKey: .fanInFanOut)
        try container.encode(taskType, forKey: .taskType)
        try container.encode(baseModelNameOrPath, forKey: .baseModelNameOrPath)
        try container.encode(inferenceMode, forKey: .inferenceMode)
        try container.encode(false, forKey: .useDoRA)
        try container.encode([String: Double](), forKey: .rankPattern)
        try container.encode([String: Double](), forKey: .alphaPattern)
        try container.encode(true, forKey: .initLoRAWeights)
        try container.encodeNil(forKey: .layersToTransform)
        try container.encodeNil(forKey: .layersPattern)
        try container.encodeNil(forKey: .revision)
        try container.encode(false, forKey: .loraBias)
        try container.encodeNil(forKey: .exclude)
    }
}
