import Data
import Tokenizers
import XCTest

/// The length rule on numbers, then on real rows.
final class CompletionTruncationTests: XCTestCase {
    func testKeptLengths() {
        let noPromptCut = CompletionTruncation(maxLength: 20)
        XCTAssertTrue(noPromptCut.keptLengths(promptLength: 10, completionLength: 10) == (10, 10), "fits exactly")
        XCTAssertTrue(noPromptCut.keptLengths(promptLength: 10, completionLength: 15) == (10, 10), "completion cut at its end")
        XCTAssertTrue(noPromptCut.keptLengths(promptLength: 20, completionLength: 1) == (20, 0), "no room left: skipped")
        XCTAssertTrue(noPromptCut.keptLengths(promptLength: 30, completionLength: 5) == (30, 0), "no room left: skipped")

        let promptCut = CompletionTruncation(maxLength: 20, maxPromptLength: 8)
        XCTAssertTrue(promptCut.keptLengths(promptLength: 6, completionLength: 9) == (6, 9), "fits")
        XCTAssertTrue(promptCut.keptLengths(promptLength: 30, completionLength: 5) == (15, 5),
                      "the prompt gives up only what the whole completion needs")
        XCTAssertTrue(promptCut.keptLengths(promptLength: 30, completionLength: 25) == (8, 12),
                      "the prompt never goes below maxPromptLength; the completion is cut")
        XCTAssertTrue(promptCut.keptLengths(promptLength: 5, completionLength: 25) == (5, 15), "a short prompt is never cut")
        XCTAssertTrue(CompletionTruncation(maxLength: 20, maxPromptLength: 0).keptLengths(promptLength: 30, completionLength: 25) == (0, 20))
    }

    /// Dolly with a prompt cut to 16 tokens at least: every example fits, keeps the end of its prompt and the start of
    /// its completion, and keeps the whole completion whenever it fits beside 16 prompt tokens.
    func testSupervisedRowsKeepThePromptEndAndTheCompletionStart() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let format = PromptFormat.template(try PromptTemplate("### Instruction:\n{instruction}\n\n### Response:\n"))
        let full = try InstructionDataset.load(from: LanguageModelingData.dollyValidation, format: format, tokenizer: tokenizer)
        let truncation = CompletionTruncation(maxLength: 64, maxPromptLength: 16)
        let cut = try InstructionDataset.load(
            from: LanguageModelingData.dollyValidation, format: format, tokenizer: tokenizer, truncation: truncation)
        XCTAssertEqual(cut.count, full.count, "with a prompt minimum, no row loses its whole completion")
        XCTAssertEqual(cut.linesSkippedForLength, [])
        XCTAssertGreaterThan(cut.truncatedCount, 50)
        XCTAssertEqual(full.truncatedCount, 0)
        for (whole, example) in zip(full, cut) {
            XCTAssertEqual(whole.line, example.line)
            XCTAssertLessThanOrEqual(example.length, 64)
            let kept = truncation.keptLengths(promptLength: whole.promptIDs.count, completionLength: whole.completionIDs.count)
            XCTAssertEqual(example.promptIDs, Array(whole.promptIDs.suffix(kept.prompt)))
            XCTAssertEqual(example.completionIDs, Array(whole.completionIDs.prefix(kept.completion)))
            XCTAssertEqual(example.isTruncated, whole.length > 64)
            if whole.completionIDs.count <= 64 - 16 {
                XCTAssertEqual(example.completionIDs, whole.completionIDs, "the whole completion, EOS included")
            }
            XCTAssertEqual(example.labels, [Int32](repeating: -100, count: example.promptIDs.count) + example.completionIDs)
        }
    }

    /// Without a prompt minimum the prompt is kept whole; rows whose prompt fills the length are skipped and counted.
    func testRowsWithoutRoomForTheCompletionAreSkippedAndCounted() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let format = PromptFormat.template(try PromptTemplate("Question: {instruction}\nAnswer:\n"))
        let url = LanguageModelingData.gsm8kValidation
        let full = try InstructionDataset.load(from: url, format: format, tokenizer: tokenizer)
        XCTAssertEqual(full.count, 500)
        let maxLength = 48
        let cut = try InstructionDataset.load(
            from: url, format: format, tokenizer: tokenizer, truncation: CompletionTruncation(maxLength: maxLength))
        let tooLong = full.filter { $0.promptIDs.count >= maxLength }
        XCTAssertGreaterThan(tooLong.count, 10)
        XCTAssertEqual(cut.linesSkippedForLength, tooLong.map { $0.line! })
        XCTAssertEqual(cut.count + cut.linesSkippedForLength.count, full.count)
        let kept = full.filter { $0.promptIDs.count < maxLength }
        for (whole, example) in zip(kept, cut) {
            XCTAssertEqual(example.promptIDs, whole.promptIDs, "the prompt is never cut")
            XCTAssertEqual(example.completionIDs, Array(whole.completionIDs.prefix(maxLength - whole.promptIDs.count)))
        }
    }

    /// With a tokenizer that starts every text with BOS, a prompt cut from its start keeps the BOS first.
    func testLeadingSpecialTokensSurviveACutPrompt() throws {
        let tokenizer = try ByteLevelBPETokenizer(
            tokenizerJSON: SmolLM2.tokenizerFile, configuration: try SmolLM2.configuration(addsBOS: true))
        let encoder = PromptCompletionEncoder(tokenizer: tokenizer, truncation: CompletionTruncation(maxLength: 12, maxPromptLength: 6))
        XCTAssertEqual(encoder.leadingIDs, [1])
        let prompt = "One two three four five six seven eight nine ten:"
        let promptIDs = try SmolLM2.ids(prompt)
        XCTAssertEqual(encoder.promptIDs(prompt), [1] + promptIDs)
        let example = try XCTUnwrap(encoder.encode(prompt: prompt, completion: " eleven twelve"))
        let completionIDs = try SmolLM2.ids(" eleven twelve") + [2]
        XCTAssertEqual(example.completionIDs, completionIDs)
        XCTAssertEqual(example.promptIDs, [1] + promptIDs.suffix(12 - completionIDs.count - 1))
        XCTAssertEqual(example.length, 12)
        XCTAssertTrue(example.isTruncated)
    }
}
