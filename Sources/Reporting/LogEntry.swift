import Foundation

/// One entry of a run's log, as transformers writes `log_history` in `trainer_state.json`: the
/// step and epoch, and named numbers. A training entry holds `loss`, `grad_norm`,
/// `learning_rate` (and the task's metrics); an evaluation entry `eval_loss`, `eval_accuracy`, …;
/// the last entry of a run `train_loss`, `train_runtime`, …. Encoded flat, step as an integer.
public struct LogEntry: Codable, Sendable, Equatable {
    public var step: Int
    public var epoch: Double
    /// Every other name → value (`loss`, `eval_accuracy`, `tokens_per_second`, …).
    public var values: [String: Double]

    public init(step: Int, epoch: Double, values: [String: Double]) {
        self.step = step
        self.epoch = epoch
        self.values = values
    }

    public enum Kind: Sendable { case training, evaluation, summary }

    /// What the entry records, from its names: `eval_…` values make an evaluation, `train_loss`
    /// or `train_runtime` the run's summary, anything else a training step.
    public var kind: Kind {
        if values.keys.contains(where: { $0.hasPrefix("eval_") }) { return .evaluation }
        if values["train_runtime"] != nil || values["train_loss"] != nil { return .summary }
        return .training
    }

    public subscript(name: String) -> Double? { values[name] }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: NamedCodingKey.self)
        try container.encode(step, forKey: NamedCodingKey("step"))
        try container.encode(epoch, forKey: NamedCodingKey("epoch"))
        for (name, value) in values where value.isFinite { try container.encode(value, forKey: NamedCodingKey(name)) }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: NamedCodingKey.self)
        step = try container.decode(Int.self, forKey: NamedCodingKey("step"))
        epoch = try container.decodeIfPresent(Double.self, forKey: NamedCodingKey("epoch")) ?? 0
        var values: [String: Double] = [:]
        for key in container.allKeys where key.stringValue != "step" && key.stringValue != "epoch" {
            // Non-numeric values (transformers writes a few, such as `total_flos` as a number but
            // others as strings) are not plotted: they are left out.
            if let value = try? container.decode(Double.self, forKey: key) { values[key.stringValue] = value }
        }
        self.values = values
    }
}
