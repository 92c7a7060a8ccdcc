import Data
import Foundation
import Tokenizers
import XCTest

/// Every way a language-modelling file or row is rejected: the error names the file, the line and the column, and
/// under `.skip` the row is left out and counted.
final class LanguageModelingErrorTests: XCTestCase {
    var folder: TemporaryFolder!
    override func setUpWithError() throws { folder = try TemporaryFolder() }
    override func tearDown() { folder.remove() }

    /// Writes `good` on line 1, a blank line, `bad` on line 3 and `good` on line 4, then checks that `load(.fail)`
    /// throws at line 3 and `load(.skip)` keeps two rows and records the error.
    private func assertRowFails<Loaded: Collection>(
        _ bad: String, good: String, reason: DatasetError.Reason, column: String?, messageContains fragment: String,
        load: (URL, BadRowPolicy) throws -> (Loaded, [DatasetError]), file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let url = try folder.write("rows-\(UUID().uuidString).jsonl", [good, "", bad, good].joined(separator: "\n"))
        do {
            _ = try load(url, .fail)
            XCTFail("loading should fail with \(reason)", file: file, line: line)
        } catch let error as DatasetError {
            XCTAssertTrue(sameReason(error.reason, reason), "\(error.reason) is not \(reason)", file: file, line: line)
            XCTAssertEqual(error.file, url, file: file, line: line)
            XCTAssertEqual(error.line, 3, file: file, line: line)
            XCTAssertEqual(error.column, column, file: file, line: line)
            let message = error.description
            XCTAssertTrue(message.hasPrefix(url.path + ", line 3"), message, file: file, line: line)
            if let column { XCTAssertTrue(message.contains("column \"\(column)\""), message, file: file, line: line) }
            XCTAssertTrue(message.contains(fragment), message, file: file, line: line)
        }
        let (kept, skipped) = try load(url, .skip)
        XCTAssertEqual(kept.count, 2, file: file, line: line)
        XCTAssertEqual(skipped.map(\.line), [3], file: file, line: line)
        XCTAssertTrue(skipped.allSatisfy { sameReason($0.reason, reason) }, file: file, line: line)
    }

    /// Reasons compared without the parser's message.
    private func sameReason(_ a: DatasetError.Reason, _ b: DatasetError.Reason) -> Bool {
        if case .invalidJSON = a, case .invalidJSON = b { return true }
        if case .invalidMessages = a, case .invalidMessages = b { return true }
        if case .chatTemplateFailed = a, case .chatTemplateFailed = b { return true }
        return a == b
    }

    func testCorpusRows() throws {
        let good = #"{"text": "Now is the winter of our discontent"}"#
        func load(_ url: URL, _ policy: BadRowPolicy) throws -> (TextCorpus, [DatasetError]) {
            let corpus = try TextCorpus.load(from: url, badRows: policy)
            return (corpus, corpus.skippedRows)
        }
        try assertRowFails(#"{"text": "a""#, good: good, reason: .invalidJSON(""), column: nil, messageContains: "not valid JSON", load: load)
        try assertRowFails(#"["a"]"#, good: good, reason: .notAnObject, column: nil, messageContains: "not a JSON object", load: load)
        try assertRowFails(#"{"body": "a"}"#, good: good, reason: .missingColumn, column: "text", messageContains: "missing column", load: load)
        try assertRowFails(#"{"text": 7}"#, good: good, reason: .textNotString(found: "a number"), column: "text",
                           messageContains: "a number, not a string", load: load)
        try assertRowFails(#"{"text": " \n "}"#, good: good, reason: .emptyText, column: "text", messageContains: "empty", load: load)
    }

    func testCorpusFiles() throws {
        let csv = try folder.write("corpus.csv", "text\nhello\n")
        XCTAssertThrowsError(try TextCorpus.load(from: csv)) { error in
            let error = error as! DatasetError
            XCTAssertEqual(error.reason, .unsupportedFileType(pathExtension: "csv", supported: ["jsonl", "ndjson", "txt"]))
            XCTAssertTrue(error.description.contains("expected jsonl, ndjson, txt"), error.description)
        }
        let missing = folder.url.appendingPathComponent("missing.jsonl")
        XCTAssertThrowsError(try TextCorpus.load(from: missing)) { error in
            guard case .unreadableFile = (error as! DatasetError).reason else { return XCTFail("\(error)") }
        }
        let blank = try folder.write("blank.txt", "\n  \n\n")
        XCTAssertThrowsError(try TextCorpus.load(from: blank)) { error in
            XCTAssertEqual((error as! DatasetError).reason, .emptyDataset)
            XCTAssertEqual((error as! DatasetError).file, blank)
        }
        let allBad = try folder.write("bad.jsonl", #"{"text": ""}"#)
        XCTAssertThrowsError(try TextCorpus.load(from: allBad, badRows: .skip)) { error in
            XCTAssertEqual((error as! DatasetError).reason, .emptyDataset)
        }
        let notUTF8 = try folder.write("latin1.txt", bytes: Array("fine\n\nalso fine\n".utf8) + [0x63, 0x61, 0x66, 0xE9, 0x0A])
        XCTAssertThrowsError(try TextCorpus.load(from: notUTF8)) { error in
            let error = error as! DatasetError
            XCTAssertEqual(error.reason, .invalidUTF8)
            XCTAssertEqual(error.line, 4)
        }
    }

    func testInstructionRows() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let format = PromptFormat.template(try PromptTemplate("Q: {instruction}\nA:"), completionColumn: "output")
        let good = #"{"instruction": "Capital of France?", "output": " Paris."}"#
        func load(_ url: URL, _ policy: BadRowPolicy) throws -> (InstructionDataset, [DatasetError]) {
            let dataset = try InstructionDataset.load(from: url, format: format, tokenizer: tokenizer, badRows: policy)
            return (dataset, dataset.skippedRows)
        }
        try assertRowFails(#"{"output": "x"}"#, good: good, reason: .missingColumn, column: "instruction",
                           messageContains: "missing column", load: load)
        try assertRowFails(#"{"instruction": "q"}"#, good: good, reason: .missingColumn, column: "output",
                           messageContains: "missing column", load: load)
        try assertRowFails(#"{"instruction": ["q"], "output": "a"}"#, good: good, reason: .textNotString(found: "an array"),
                           column: "instruction", messageContains: "an array, not a string", load: load)
        try assertRowFails(#"{"instruction": "q", "output": ""}"#, good: good, reason: .emptyText, column: "output",
                           messageContains: "empty", load: load)
        try assertRowFails("{", good: good, reason: .invalidJSON(""), column: nil, messageContains: "not valid JSON", load: load)
    }

    /// A misspelt placeholder names no column of the file: one error, naming the template and the placeholder, even
    /// when bad rows are skipped.
    func testUnknownPlaceholderOnRealData() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let source = "Q: {instrution}\nA: "
        let url = LanguageModelingData.dollyValidation
        for policy in [BadRowPolicy.fail, .skip] {
            XCTAssertThrowsError(try InstructionDataset.load(
                from: url, format: .template(try PromptTemplate(source)), tokenizer: tokenizer, badRows: policy)) { error in
                let error = error as! DatasetError
                XCTAssertEqual(error.file, url)
                XCTAssertNil(error.line)
                XCTAssertEqual(error.column, "instrution")
                XCTAssertEqual(error.reason, .unknownPlaceholder(template: source, columns: ["input", "instruction", "output"]))
                XCTAssertTrue(error.description.contains(#"column "instrution""#), error.description)
                XCTAssertTrue(error.description.contains(source.debugDescription), error.description)
                XCTAssertTrue(error.description.contains(#""instruction""#), error.description)
            }
        }
    }

    func testConversationRows() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let good = #"{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}"#
        func loader(_ template: ChatTemplate) -> (URL, BadRowPolicy) throws -> (InstructionDataset, [DatasetError]) {
            { url, policy in
                let dataset = try InstructionDataset.load(from: url, format: .chatMessages(template), tokenizer: tokenizer, badRows: policy)
                return (dataset, dataset.skippedRows)
            }
        }
        let load = loader(try SmolLM2.chatTemplate())
        let cases: [(String, DatasetError.Reason, String)] = [
            (#"{"messages": "Hi"}"#, .invalidMessages(""), "holds a string"),
            (#"{"messages": []}"#, .invalidMessages(""), "the list is empty"),
            (#"{"messages": [3]}"#, .invalidMessages(""), "message 0 is a number, not an object"),
            (#"{"messages": [{"content": "Hi"}]}"#, .invalidMessages(""), #"message 0 has no "role""#),
            (#"{"messages": [{"role": "user", "content": null}]}"#, .invalidMessages(""), #"message 0 has "content" null"#),
            (#"{"messages": [{"role": "user", "content": "Hi"}]}"#, .invalidMessages(""), #"from "user", not from the assistant"#),
            (#"{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": ""}]}"#, .emptyText, "empty"),
            (#"{"chat": []}"#, .missingColumn, "missing column"),
        ]
        for (bad, reason, fragment) in cases {
            try assertRowFails(bad, good: good, reason: reason, column: "messages", messageContains: fragment, load: load)
        }

        // A template that refuses system messages, and one whose generation prompt is not where the reply starts.
        let refusing = try ChatTemplate(source: """
            {% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system messages') }}{% endif %}\
            {{ m['role'] + ': ' + m['content'] + '\n' }}{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}
            """)
        let withSystem = #"{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}"#
        try assertRowFails(withSystem, good: good, reason: .chatTemplateFailed(""), column: "messages",
                           messageContains: "no system messages", load: loader(refusing))
        let misplaced = try ChatTemplate(source: """
            {% for m in messages %}{{ m['content'] }}{% endfor %}\
            {% if add_generation_prompt and messages[0]['role'] == 'system' %}>>{% endif %}
            """)
        try assertRowFails(withSystem, good: good, reason: .chatTemplateFailed(""), column: "messages",
                           messageContains: "does not start with the prompt", load: loader(misplaced))
    }

    func testPreferenceRows() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let good = #"{"prompt": "Human: Hi\n\nAssistant:", "chosen": "Hello!", "rejected": "Go away."}"#
        func load(_ url: URL, _ policy: BadRowPolicy) throws -> (PreferenceDataset, [DatasetError]) {
            let dataset = try PreferenceDataset.load(from: url, tokenizer: tokenizer, separator: " ", badRows: policy)
            return (dataset, dataset.skippedRows)
        }
        try assertRowFails(#"{"prompt": "p", "chosen": "c"}"#, good: good, reason: .missingColumn, column: "rejected",
                           messageContains: "missing column", load: load)
        try assertRowFails(#"{"prompt": "p", "chosen": " ", "rejected": "r"}"#, good: good, reason: .emptyText, column: "chosen",
                           messageContains: "empty", load: load)
        try assertRowFails(#"{"prompt": null, "chosen": "c", "rejected": "r"}"#, good: good, reason: .textNotString(found: "null"),
                           column: "prompt", messageContains: "null, not a string", load: load)

        let text = try folder.write("pairs.txt", "prompt")
        XCTAssertThrowsError(try PreferenceDataset.load(from: text, tokenizer: tokenizer)) { error in
            XCTAssertEqual((error as! DatasetError).reason, .unsupportedFileType(pathExtension: "txt", supported: ["jsonl", "ndjson"]))
        }
        // Rows whose prompt leaves no room for a completion are left out and counted; none left is an error.
        let long = #"{"prompt": "A much longer prompt than any of the others in this small file", "chosen": "a", "rejected": "b"}"#
        let url = try folder.write("long.jsonl", [good, long].joined(separator: "\n"))
        XCTAssertEqual(try SmolLM2.ids("Human: Hi\n\nAssistant:").count + (try SmolLM2.ids(" Go away.").count + 1), 12)
        XCTAssertGreaterThanOrEqual(try SmolLM2.ids("A much longer prompt than any of the others in this small file").count, 12)
        let cut = try PreferenceDataset.load(
            from: url, tokenizer: tokenizer, separator: " ", truncation: CompletionTruncation(maxLength: 12))
        XCTAssertEqual(cut.count, 1)
        XCTAssertEqual(cut.linesSkippedForLength, [2])
        XCTAssertThrowsError(try PreferenceDataset.load(from: url, tokenizer: tokenizer, truncation: CompletionTruncation(maxLength: 2))) { error in
            XCTAssertEqual((error as! DatasetError).reason, .emptyDataset)
        }
    }
}
