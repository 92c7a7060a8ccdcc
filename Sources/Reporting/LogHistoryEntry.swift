import Foundation

/// A `log_history` entry as read: flat, as transformers writes it, or in the nested form of
/// states written before the log was flat (`{"epoch", "step", "trainingLoss", "metrics":
/// {"eval_loss", …}}`), which becomes a training entry and a flat evaluation entry.
public struct LogHistoryEntry: Decodable, Sendable {
    public var entries: [LogEntry]

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: NamedCodingKey.self)
        guard container.contains(NamedCodingKey("metrics")) else {
            entries = [try LogEntry(from: decoder)]
            return
        }
        let step = try container.decode(Int.self, forKey: NamedCodingKey("step"))
        let epoch = try container.decodeIfPresent(Double.self, forKey: NamedCodingKey("epoch")) ?? 0
        entries = []
        if let loss = try container.decodeIfPresent(Double.self, forKey: NamedCodingKey("trainingLoss")) {
            entries.append(LogEntry(step: step, epoch: epoch, values: ["loss": loss]))
        }
        var values: [String: Double] = [:]
        let metrics = try container.nestedContainer(keyedBy: NamedCodingKey.self, forKey: NamedCodingKey("metrics"))
        for key in metrics.allKeys {
            guard let value = try? metrics.decode(Double.self, forKey: key) else { continue }
            let name = key.stringValue.hasPrefix("eval_") ? key.stringValue : "eval_" + key.stringValue
            values[name] = value
        }
        entries.append(LogEntry(step: step, epoch: epoch, values: values))
    }
}
