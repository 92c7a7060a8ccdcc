import ArgumentParser
import Foundation
import Training

/// `finetune reward`: a trained reward model's score of completions, given as a prompt and its
/// completions, or as `{"prompt", "completion"}` rows of a JSON-lines file.
struct RewardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reward", abstract: "Score completions with a trained reward model (task: reward).")

    @Option(name: .long, help: "A reward model's training output folder, or one of its checkpoint-N folders.")
    var modelDir: String

    @Option(name: .long, help: "The prompt the completions (the arguments) answer.")
    var prompt: String?

    @Argument(help: "Completions of --prompt.")
    var completions: [String] = []

    @Option(name: .long, help: "A JSON-lines file of {\"prompt\", \"completion\"} rows (- for standard input).")
    var file: String?

    @Option(name: .long, help: "Sequences per forward pass.")
    var batchSize = 8

    @Flag(name: .long, help: "Print one {\"prompt\", \"completion\", \"reward\"} object per line.")
    var json = false

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1") }
        guard (prompt != nil) != (file != nil) else { throw ValidationError("give --prompt with completions, or --file") }
        if prompt != nil && completions.isEmpty { throw ValidationError("--prompt needs at least one completion") }
    }

    func run() throws {
        let task = try RewardModelTask.load(runDirectory: URL(fileURLWithPath: modelDir))
        let pairs = try prompt.map { prompt in completions.map { (prompt: prompt, completion: $0) } } ?? CompletionRows.read(file!)
        let rewards = try task.score(pairs, separator: task.record.completionSeparator ?? " ", batchSize: batchSize)
        for (pair, reward) in zip(pairs, rewards) {
            if json {
                try Console.jsonLine(ScoredCompletion(prompt: pair.prompt, completion: pair.completion, reward: reward))
            } else {
                print(String(format: "%8.4f  ", reward) + pair.completion.replacingOccurrences(of: "\n", with: " "))
            }
        }
    }
}

private struct ScoredCompletion: Encodable {
    let prompt: String
    let completion: String
    let reward: Double
}

/// `{"prompt", "completion"}` rows of a JSON-lines file (other keys, such as `generate --json`'s
/// `completion_ids`, are ignored), naming the line of a bad one.
enum CompletionRows {
    static func read(_ path: String) throws -> [(prompt: String, completion: String)] {
        let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: path))
        var rows: [(prompt: String, completion: String)] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let prompt = object["prompt"] as? String, let completion = object["completion"] as? String else {
                throw ValidationError("\(path), line \(index + 1): expected an object with string \"prompt\" and \"completion\"")
            }
            rows.append((prompt, completion))
        }
        return rows
    }
}
