import Foundation
import Models
import Tensors
import TestSupport
import XCTest

/// `TextGenerator` on the tiny Llama of `golden/tiny/llama/`: requests it refuses, the end-of-
/// sequence rule, and the cached and uncached paths giving the same sampled ids.
final class TextGeneratorTests: XCTestCase {
    private func tinyLlama() throws -> any CausalLanguageModel {
        try DecoderLoader.causalLanguageModel(directory: Fixtures.golden.appendingPathComponent("tiny/llama")).model
    }

    func testBadRequestsAreRefused() throws {
        let generator = TextGenerator(model: try tinyLlama())
        XCTAssertThrowsError(try generator.generate(prompt: [], config: GenerationConfig())) { error in
            XCTAssertEqual(error as? GenerationError, .emptyPrompt)
        }
        XCTAssertThrowsError(try generator.generate(prompt: [3, 128], config: GenerationConfig())) { error in
            XCTAssertEqual(error as? GenerationError, .idOutOfVocabulary(position: 1, id: 128, vocabularySize: 128))
        }
        XCTAssertThrowsError(try generator.generate(prompt: [3], config: GenerationConfig(topP: 2))) { error in
            XCTAssertEqual(error as? GenerationError, .invalidSetting("topP", "2.0 must be in [0, 1]"))
        }
        let nothing = try generator.generate(prompt: [3], config: GenerationConfig(maxNewTokens: 0))
        XCTAssertEqual(nothing.newIDs, [])
        XCTAssertEqual(nothing.stopReason, .maxNewTokens)
    }

    func testCachedAndUncachedSamplingAgree() throws {
        let generator = TextGenerator(model: try tinyLlama())
        let prompt: [Int32] = [5, 17, 99, 3]
        for config in [GenerationConfig(maxNewTokens: 20, eosTokenIDs: []),
                       GenerationConfig(maxNewTokens: 20, temperature: 0.9, topK: 20, topP: 0.95, repetitionPenalty: 1.2,
                                        eosTokenIDs: [], seed: 11)] {
            var uncachedConfig = config
            uncachedConfig.useCache = false
            let cached = try generator.generate(prompt: prompt, config: config)
            let uncached = try generator.generate(prompt: prompt, config: uncachedConfig)
            XCTAssertEqual(cached.newIDs.count, 20)
            XCTAssertEqual(cached.newIDs, uncached.newIDs)
        }
    }

    func testEndOfSequenceIDsEndTheOutput() throws {
        let generator = TextGenerator(model: try tinyLlama())
        let prompt: [Int32] = [5, 17, 99, 3]
        let free = try generator.generate(prompt: prompt, config: GenerationConfig(maxNewTokens: 10, eosTokenIDs: []))
        XCTAssertEqual(free.stopReason, .maxNewTokens)
        // Declaring the third greedy id an end-of-sequence id stops right after it.
        let stop = free.newIDs[2]
        let firstOccurrence = try XCTUnwrap(free.newIDs.firstIndex(of: stop))
        let stopped = try generator.generate(prompt: prompt, config: GenerationConfig(maxNewTokens: 10, eosTokenIDs: [stop]))
        XCTAssertEqual(stopped.newIDs, Array(free.newIDs.prefix(firstOccurrence + 1)))
        XCTAssertEqual(stopped.stopReason, .endOfSequence(stop))
    }
}
