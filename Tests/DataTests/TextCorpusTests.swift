import Data
import Foundation
import Tokenizers
import XCTest

/// Corpora from tinyshakespeare, packed into blocks (`group_texts`) or one document per row.
final class TextCorpusTests: XCTestCase {
    func testPackedBlocksOfTinyShakespeare() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let corpus = try TextCorpus.load(from: LanguageModelingData.shakespeareTrain)
        XCTAssertEqual(corpus.count, 6283)
        XCTAssertTrue(corpus.skippedRows.isEmpty)
        XCTAssertEqual(corpus.first?.text, "First Citizen:\nBefore we proceed any further, hear me speak.")
        XCTAssertEqual(corpus.first?.line, 1)
        XCTAssertEqual(corpus.last?.line, 6283)

        // The stream, built here directly from the tokenizer: each document's ids, then EOS.
        var stream: [Int32] = []
        for document in corpus {
            stream += try SmolLM2.ids(document.text) + [SmolLM2.endOfSequenceID]
        }
        XCTAssertEqual(stream.filter { $0 == SmolLM2.endOfSequenceID }.count, corpus.count, "one EOS per document")

        let blockLength = 128
        let blocks = corpus.packedBlocks(tokenizer: tokenizer, blockLength: blockLength)
        XCTAssertEqual(blocks.count, stream.count / blockLength)
        XCTAssertGreaterThan(blocks.count, 2000)
        XCTAssertTrue(blocks.allSatisfy { $0.length == blockLength }, "every block has exactly the block length")
        XCTAssertTrue(blocks.allSatisfy { $0.labels == $0.inputIDs }, "every token is scored")
        XCTAssertEqual(Array(blocks.map(\.inputIDs).joined()), Array(stream.prefix(blocks.count * blockLength)),
                       "the blocks, concatenated, are the stream in order")
        XCTAssertLessThan(stream.count - blocks.count * blockLength, blockLength, "only a partial block is dropped")
        XCTAssertTrue(try SmolLM2.text(blocks[0].inputIDs).hasPrefix(
            "First Citizen:\nBefore we proceed any further, hear me speak.<|im_end|>All:\nSpeak, speak.<|im_end|>"))
        XCTAssertEqual(blocks[0].scoredTokenCount, blockLength - 1)

        // A block longer than the stream gives nothing.
        let small = TextCorpus(texts: ["To be, or not to be"])
        XCTAssertEqual(small.packedBlocks(tokenizer: tokenizer, blockLength: 1000), [])
        XCTAssertEqual(small.packedBlocks(tokenizer: tokenizer, blockLength: 1).count, try SmolLM2.ids("To be, or not to be").count + 1)
    }

    func testPaddedRowsAreOneDocumentEach() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let corpus = try TextCorpus.load(from: LanguageModelingData.shakespeareValidation)
        XCTAssertEqual(corpus.count, 939)
        let maxLength = 32
        let rows = corpus.paddedRows(tokenizer: tokenizer, maxLength: maxLength)
        XCTAssertEqual(rows.count, corpus.count)
        var truncated = 0
        for (row, document) in zip(rows, corpus) {
            let full = try SmolLM2.ids(document.text) + [SmolLM2.endOfSequenceID]
            XCTAssertEqual(row.inputIDs, Array(full.prefix(maxLength)))
            XCTAssertEqual(row.labels, row.inputIDs)
            if full.count > maxLength {
                truncated += 1
                XCTAssertEqual(row.length, maxLength)
                XCTAssertNotEqual(row.inputIDs.last, SmolLM2.endOfSequenceID, "a cut document does not end")
            } else {
                XCTAssertEqual(row.inputIDs.last, SmolLM2.endOfSequenceID)
            }
        }
        XCTAssertGreaterThan(truncated, 100)
        XCTAssertLessThan(truncated, corpus.count - 100)
        let unlimited = corpus.paddedRows(tokenizer: tokenizer, maxLength: nil)
        XCTAssertEqual(unlimited.map(\.length).reduce(0, +), corpus.tokenizedDocuments(tokenizer: tokenizer).map(\.count).reduce(0, +))
        XCTAssertTrue(unlimited.allSatisfy { $0.inputIDs.last == SmolLM2.endOfSequenceID })
    }

    /// tinyshakespeare's rows joined by blank lines (its original text) give back the same documents from a `.txt`.
    func testPlainTextSplitOnBlankLines() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let jsonLines = try TextCorpus.load(from: LanguageModelingData.shakespeareValidation)
        let url = try folder.write("shakespeare.txt", jsonLines.texts.joined(separator: "\n\n") + "\n")
        let plain = try TextCorpus.load(from: url)
        XCTAssertEqual(plain.texts, jsonLines.texts)
        XCTAssertEqual(plain.first?.line, 1)

        let spaced = try folder.write("spaced.txt", "one\r\ntwo\n\n \t\n\nthree\n\n")
        let documents = try TextCorpus.load(from: spaced)
        XCTAssertEqual(documents.texts, ["one\ntwo", "three"])
        XCTAssertEqual(documents.map(\.line), [1, 6])
        let whole = try TextCorpus.load(from: spaced, plainTextSplit: .wholeFile)
        XCTAssertEqual(whole.texts, ["one\r\ntwo\n\n \t\n\nthree\n\n"])
    }
}
