import Foundation
import Formats
import Tokenizers

/// `finetune_run.json`: what a training output folder (or checkpoint) needs to be used again —
/// the base model, the method, the labels and how texts were tokenised.
public struct RunRecord: Codable, Sendable, Equatable {
    public static let fileName = "finetune_run.json"

    public var baseModel: String
    public var task: FineTuneTask
    public var method: TrainingMethod
    public var trainableLayers: Int
    /// Class names by id.
    public var labels: [String]
    public var maxLength: Int?
    public var truncationSide: TruncationSide
    public var textColumn: String
    public var labelColumn: String
    /// Reward models: the text between a prompt and each completion.
    public var completionSeparator: String? = nil

    enum CodingKeys: String, CodingKey {
        case baseModel = "base_model", task, method, trainableLayers = "trainable_layers", labels
        case maxLength = "max_length", truncationSide = "truncation_side", textColumn = "text_column", labelColumn = "label_column"
        case completionSeparator = "completion_separator"
    }

    public func write(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(self), to: directory.appendingPathComponent(RunRecord.fileName))
    }

    public static func read(from directory: URL) throws -> RunRecord {
        let url = directory.appendingPathComponent(fileName)
        guard let data = try? Foundation.Data(contentsOf: url) else {
            throw ConfigError(file: url.path, key: "(file)", "not found: --model-dir takes a training output folder or one of its checkpoint-N folders")
        }
        do {
            return try JSONDecoder().decode(RunRecord.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ConfigError(file: url.path, key: key.stringValue, "missing")
        } catch {
            throw ConfigError(file: url.path, key: "(record)", "not a valid run record (\(error))")
        }
    }
}
