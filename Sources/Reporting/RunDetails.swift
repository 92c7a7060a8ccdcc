import Foundation
import Formats

/// `run_details.json`: what a training report shows besides the log — the run's title, its
/// settings, the trainable-parameter line, and the model's predictions (or completions) on the
/// sample texts before and after training. Written by `finetune train` into the output folder so
/// that `finetune report` can render the report again.
public struct RunDetails: Codable, Sendable, Equatable {
    public static let fileName = "run_details.json"

    /// An input and what the model made of it (a label with its probability, or a completion).
    public struct Sample: Codable, Sendable, Equatable {
        public var input: String
        public var output: String
        public init(input: String, output: String) {
            self.input = input
            self.output = output
        }
    }

    /// A setting as `key` (`training.learning_rate`) and its value as text.
    public struct Setting: Codable, Sendable, Equatable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    public var title: String
    public var model: String
    public var task: String
    public var method: String
    public var settings: [Setting]
    /// PEFT's line: `trainable params: 19,202 || all params: 22,733,188 || trainable%: 0.0845`.
    public var parameterLine: String?
    public var samplesBefore: [Sample]
    public var samplesAfter: [Sample]

    public init(title: String, model: String, task: String, method: String, settings: [Setting], parameterLine: String? = nil,
                samplesBefore: [Sample] = [], samplesAfter: [Sample] = []) {
        self.title = title
        self.model = model
        self.task = task
        self.method = method
        self.settings = settings
        self.parameterLine = parameterLine
        self.samplesBefore = samplesBefore
        self.samplesAfter = samplesAfter
    }

    enum CodingKeys: String, CodingKey {
        case title, model, task, method, settings, parameterLine = "parameter_line"
        case samplesBefore = "samples_before", samplesAfter = "samples_after"
    }

    public func write(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(self), to: directory.appendingPathComponent(Self.fileName))
    }

    public static func read(from directory: URL) throws -> RunDetails {
        let url = directory.appendingPathComponent(fileName)
        do {
            return try JSONDecoder().decode(RunDetails.self, from: try Foundation.Data(contentsOf: url))
        } catch {
            throw ReportError("\(url.path): cannot read the run details (\(error))")
        }
    }
}

/// A report that cannot be written or a log that cannot be read, naming the file.
public struct ReportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
