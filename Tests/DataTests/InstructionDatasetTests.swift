import Data
import Foundation
import Tokenizers
import XCTest

/// Supervised examples from Dolly and GSM8K with prompt templates and with SmolLM2's chat template.
final class InstructionDatasetTests: XCTestCase {
    /// The template of the brief: its trailing space makes every answer that starts with a word straddle the
    /// boundary, so those completions are tokenised on their own; the rest are tokenised jointly.
    func testDollyWithAPromptTemplate() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let source = "Please answer the following question.\nQ: {instruction}\nA: "
        let dataset = try InstructionDataset.load(
            from: LanguageModelingData.dollyValidation, format: .template(try PromptTemplate(source)), tokenizer: tokenizer)
        let rows = try LanguageModelingData.stringRows(LanguageModelingData.dollyValidation)
        XCTAssertEqual(dataset.count, 300)
        XCTAssertEqual(rows.count, 300)
        XCTAssertTrue(dataset.skippedRows.isEmpty)
        XCTAssertEqual(dataset.linesSkippedForLength, [])

        var jointlyTokenized = 0
        for (index, (example, row)) in zip(dataset, rows).enumerated() {
            let prompt = "Please answer the following question.\nQ: \(row["instruction"]!)\nA: "
            let output = row["output"]!
            XCTAssertEqual(example.line, index + 1)
            XCTAssertEqual(example.prompt, prompt)
            XCTAssertEqual(example.completion, output)
            XCTAssertEqual(example.promptIDs, try SmolLM2.ids(prompt), "the prompt alone, as a generation starts")
            let labels = example.labels
            XCTAssertEqual(labels.count, example.inputIDs.count)
            XCTAssertEqual(Array(labels.prefix(example.promptIDs.count)), [Int32](repeating: -100, count: example.promptIDs.count))
            XCTAssertEqual(Array(labels.dropFirst(example.promptIDs.count)), example.completionIDs)
            XCTAssertFalse(example.completionIDs.contains(-100))
            XCTAssertEqual(example.completionIDs.last, SmolLM2.endOfSequenceID)
            XCTAssertEqual(try SmolLM2.text(example.inputIDs), prompt + output + "<|im_end|>")
            XCTAssertEqual(example.causalExample, CausalExample(inputIDs: example.inputIDs, labels: labels))

            let joint = try SmolLM2.ids(prompt + output)
            if joint.starts(with: example.promptIDs) {
                jointlyTokenized += 1
                XCTAssertEqual(example.inputIDs, joint + [2], "tokenised as one text when the boundary allows")
            } else {
                XCTAssertEqual(example.completionIDs, try SmolLM2.ids(output) + [2], "otherwise the completion on its own")
            }
        }
        XCTAssertEqual(dataset.separatelyTokenizedCount, 300 - jointlyTokenized)
        XCTAssertGreaterThan(dataset.separatelyTokenizedCount, 200)
        XCTAssertGreaterThan(jointlyTokenized, 0)
    }

    /// With the Alpaca template (ending in a newline) nothing straddles the boundary: every example is the joint
    /// tokenisation of prompt + output, then EOS, exactly as TRL builds it.
    func testGSM8KWithTheAlpacaTemplateMatchesJointTokenization() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let source = """
            Below is an instruction that describes a task. Write a response that appropriately completes the request.

            ### Instruction:
            {instruction}

            ### Response:

            """
        let template = try PromptTemplate(source)
        let dataset = try InstructionDataset.load(
            from: LanguageModelingData.gsm8kValidation, format: .template(template), tokenizer: tokenizer)
        let rows = try LanguageModelingData.stringRows(LanguageModelingData.gsm8kValidation)
        XCTAssertEqual(dataset.count, 500)
        XCTAssertEqual(dataset.separatelyTokenizedCount, 0)
        for (example, row) in zip(dataset, rows) {
            let prompt = try template.render(row)
            XCTAssertEqual(example.inputIDs, try SmolLM2.ids(prompt + row["output"]!) + [2])
            XCTAssertEqual(example.promptIDs, try SmolLM2.ids(prompt))
            XCTAssertEqual(try SmolLM2.text(example.completionIDs), row["output"]! + "<|im_end|>")
            XCTAssertTrue(row["output"]!.contains("#### "))
        }
    }

    /// A prompt/completion pair through SmolLM2's chat template equals rendering the conversation, then tokenising.
    func testChatTemplateOverPromptAndCompletion() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let template = try SmolLM2.chatTemplate()
        let dataset = try InstructionDataset.load(
            from: LanguageModelingData.dollyValidation,
            format: .chat(template, promptColumn: "instruction", completionColumn: "output"), tokenizer: tokenizer)
        let rows = try LanguageModelingData.stringRows(LanguageModelingData.dollyValidation)
        XCTAssertEqual(dataset.count, 300)
        XCTAssertEqual(dataset.separatelyTokenizedCount, 0)
        for (example, row) in zip(dataset, rows) {
            let user = ChatMessage(role: "user", content: row["instruction"]!)
            let assistant = ChatMessage(role: "assistant", content: row["output"]!)
            let conversation = try template.render(messages: [user, assistant], addGenerationPrompt: false)
            let prompt = try template.render(messages: [user], addGenerationPrompt: true)
            XCTAssertEqual(example.inputIDs, try SmolLM2.ids(conversation))
            XCTAssertEqual(example.inputIDs, try tokenizer.applyChatTemplate([user, assistant], addGenerationPrompt: false).map { Int32($0) })
            XCTAssertEqual(example.promptIDs, try tokenizer.applyChatTemplate([user], addGenerationPrompt: true).map { Int32($0) })
            XCTAssertEqual(example.prompt, prompt)
            XCTAssertTrue(prompt.hasSuffix("<|im_start|>assistant\n"))
            XCTAssertEqual(example.completion, row["output"]! + "<|im_end|>\n")
            XCTAssertEqual(Array(example.completionIDs.suffix(2)), [2, 198], "the template ends the turn; nothing is appended")
            XCTAssertEqual(example.labels.filter { $0 == -100 }.count, example.promptIDs.count)
        }

        let withSystem = try InstructionDataset.load(
            from: LanguageModelingData.dollyValidation,
            format: .chat(template, promptColumn: "instruction", completionColumn: "output", systemPrompt: "Answer briefly."),
            tokenizer: tokenizer)
        XCTAssertTrue(withSystem[0].prompt.hasPrefix("<|im_start|>system\nAnswer briefly.<|im_end|>\n<|im_start|>user\n"))
    }

    /// A `messages` column: the last assistant message is the completion, every earlier turn is prompt.
    func testChatTemplateOverAMessagesColumn() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let tokenizer = try SmolLM2.tokenizer()
        let template = try SmolLM2.chatTemplate()
        let rows = Array(try LanguageModelingData.stringRows(LanguageModelingData.dollyValidation).prefix(20))
        var conversations: [[ChatMessage]] = []
        for (index, row) in rows.enumerated() {
            var messages = [ChatMessage(role: "user", content: row["instruction"]!), ChatMessage(role: "assistant", content: row["output"]!)]
            if index % 2 == 1 {  // a system message and an earlier exchange
                messages = [ChatMessage(role: "system", content: "Be concise."), ChatMessage(role: "user", content: "Hi"),
                            ChatMessage(role: "assistant", content: "Hello!")] + messages
            }
            conversations.append(messages)
        }
        let lines = try conversations.map { messages in
            String(decoding: try JSONEncoder().encode(["messages": messages]), as: UTF8.self)
        }
        let url = try folder.write("chat.jsonl", lines.joined(separator: "\n"))
        let dataset = try InstructionDataset.load(from: url, format: .chatMessages(template), tokenizer: tokenizer)
        XCTAssertEqual(dataset.count, 20)
        for (example, messages) in zip(dataset, conversations) {
            XCTAssertEqual(example.inputIDs, try tokenizer.applyChatTemplate(messages, addGenerationPrompt: false).map { Int32($0) })
            XCTAssertEqual(example.promptIDs, try tokenizer.applyChatTemplate(Array(messages.dropLast()), addGenerationPrompt: true).map { Int32($0) })
            XCTAssertEqual(try SmolLM2.text(example.completionIDs), messages.last!.content + "<|im_end|>\n")
        }
        XCTAssertTrue(dataset[1].prompt.contains("<|im_start|>assistant\nHello!<|im_end|>"), "earlier turns are context")
    }
}
