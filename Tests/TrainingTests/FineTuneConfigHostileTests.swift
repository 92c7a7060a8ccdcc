import Foundation
import TestSupport
import Training
import XCTest

/// YAML run configs found to crash or exhaust the loader (the run-config fuzz target replays
/// them): each now fails with a `ConfigError` naming the file and the key.
final class FineTuneConfigHostileTests: XCTestCase {
    private func write(_ yaml: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func loadingError(_ yaml: String, line: UInt = #line) throws -> ConfigError? {
        let url = try write(yaml)
        do {
            _ = try FineTuneConfig.load(from: url)
            XCTFail("the config loaded", line: line)
        } catch let error as ConfigError {
            XCTAssertEqual(error.file, url.path, line: line)
            return error
        } catch {
            XCTFail("not a ConfigError: \(error)", line: line)
        }
        return nil
    }

    /// The fuzzer's input: a section written twice. Yams traps building a dictionary with a
    /// repeated key.
    func testRepeatedKeyIsAnErrorNotATrap() throws {
        let fuzzed = "model: l/esodmall-MiniLM-L3-v2\ndata:\n  train_file: train.json/all-MiniLM-L6-v2\ndata:\n  train_file: train.jsonll\n"
        let error = try loadingError(fuzzed)
        XCTAssertEqual(error?.key, "data")
        XCTAssertTrue(error?.reason.contains("more than once") ?? false, error?.description ?? "")
        XCTAssertEqual(try loadingError("training:\n  seed: 1\n  seed: 2\n")?.key, "training.seed")
    }

    /// Thousands of nested collections overflowed the stack of Yams' recursive composer.
    func testDeepNestingIsRefusedBeforeComposing() throws {
        for yaml in ["model: " + String(repeating: "[", count: 16_000),
                     String(repeating: "- ", count: 6_000) + "x",
                     "model: " + String(repeating: "{a: ", count: 2_000) + "1" + String(repeating: "}", count: 2_000)] {
            let error = try loadingError(yaml)
            XCTAssertEqual(error?.key, "(syntax)")
            XCTAssertTrue(error?.reason.contains("nest") ?? false, error?.description ?? "")
        }
    }

    /// Aliases of aliases ("billion laughs") expand to billions of values.
    func testAliasExpansionIsBounded() throws {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            yaml += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let error = try loadingError(yaml)
        XCTAssertTrue(error?.reason.contains("100000 values") ?? false, error?.description ?? "")
    }

    /// Anchors and aliases within the bounds still work, and typos are still named.
    func testOrdinaryAliasesAndErrorsStillWork() throws {
        let config = try FineTuneConfig.load(from: try write("""
            model: m
            data: {train_file: t.jsonl, labels: &names [neg, pos]}
            sample_texts: *names
            """))
        XCTAssertEqual(config.data.labels, ["neg", "pos"])
        XCTAssertEqual(config.sampleTexts, ["neg", "pos"])
        XCTAssertEqual(try loadingError("model: m\ntraining: {learning_rat: 1}\n")?.key, "training.learning_rat")
        XCTAssertEqual(try loadingError("- a\n- b\n")?.key, "(top level)")
        XCTAssertEqual(try loadingError("model: [unclosed\n")?.key, "(syntax)")
    }
}
