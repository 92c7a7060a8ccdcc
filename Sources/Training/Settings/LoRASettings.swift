import LoRA
import NN
import Tensors

/// The `lora:` section's settings: PEFT's `LoraConfig` names. Flags carry a `lora-` prefix where
/// the bare name would be unclear (`--lora-r`, `--lora-bias`).
extension LoRAConfig {
    public static var settings: [Setting<Self>] {
        [
            .value(\.rank, "r", flag: "lora-r", "the adapters' rank"),
            .value(\.alpha, "lora_alpha", "alpha: the adapters' output is scaled by alpha/r"),
            .value(\.dropout, "lora_dropout", "dropout on the adapters' input"),
            .value(\.targetModules, "target_modules", "module names (exact or .suffix), re:<regex> (whole path), or all-linear"),
            .value(\.bias, "bias", flag: "lora-bias", "which biases train: none, all or lora_only"),
            .value(\.modulesToSave, "modules_to_save", "modules trained in full and saved with the adapter (default: the head)"),
            .value(\.useRSLoRA, "use_rslora", "scale by alpha/sqrt(r) instead of alpha/r"),
            .value(\.fanInFanOut, "fan_in_fan_out", "the base weight is stored (in, out), as GPT-2's Conv1D (set for GPT-2)"),
            .value(\.taskType, "task_type", "PEFT's task type (set by the run)"),
            .value(\.baseModelNameOrPath, "base_model_name_or_path", "the base model written into adapter_config.json (set by the run)"),
            .value(\.inferenceMode, "inference_mode", "PEFT's inference_mode (written into adapter_config.json)"),
        ]
    }
}

extension TargetModules: SettingValue {
    /// A list of names; or one text: `all-linear`, `re:<regex>`, or comma-separated names.
    public init(setting input: SettingInput) throws {
        switch input {
        case .list(let names): self = .names(names)
        case .text(let text): self = TargetModules(commandLine: text)
        case .null: throw SettingProblem("expected module names, found nothing")
        }
    }
    public var settingText: String {
        switch self {
        case .names(let names): return names.joined(separator: ",")
        case .pattern(let pattern): return "re:" + pattern
        case .allLinear: return "all-linear"
        }
    }
    public var settingJSON: Any {
        if case .names(let names) = self { return names }
        return settingText
    }
    public static var settingKind: String { "names|re:<regex>|all-linear" }
}

extension LoRABias: SettingChoice {}
extension ComputeDType: SettingChoice {}
extension LearningRateSchedule.Kind: SettingChoice {}
