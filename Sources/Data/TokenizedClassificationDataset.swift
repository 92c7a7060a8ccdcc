import Foundation
import Tokenizers

/// A `TextClassificationDataset` tokenised once, up front, so that batches only have to be padded.
public struct TokenizedClassificationDataset: Sendable, RandomAccessCollection {
    /// The encoded examples, in the order of the source dataset.
    public let examples: [EncodedExample]
    /// Names and ids of the labels.
    public let labelMap: LabelMap
    /// Total number of tokens over all examples (no padding: the sum of the attention masks of any batching).
    public let tokenCount: Int

    /// Tokenises every text of `dataset` with `tokenizer` (special tokens added, as the tokenizer's template says),
    /// cut to `truncation` if given. The work is spread over the processor's cores.
    public init(
        _ dataset: TextClassificationDataset,
        tokenizer: any Tokenizer,
        truncation: Truncation?,
        addSpecialTokens: Bool = true
    ) {
        let texts = dataset.examples
        var encoded = [EncodedExample](repeating: EncodedExample(inputIDs: [], label: 0), count: texts.count)
        let chunkCount = Swift.min(texts.count, ProcessInfo.processInfo.activeProcessorCount * 4)
        encoded.withUnsafeMutableBufferPointer { output in
            // Each index is written by exactly one chunk, so the concurrent writes never touch the same element.
            nonisolated(unsafe) let output = output
            DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                // Chunk `chunk` handles examples [start, end): contiguous ranges that together cover every index.
                let start = chunk * texts.count / chunkCount
                let end = (chunk + 1) * texts.count / chunkCount
                for index in start..<end {
                    let ids = tokenizer.encode(texts[index].text, addSpecialTokens: addSpecialTokens, truncation: truncation)
                    output[index] = EncodedExample(inputIDs: ids.map { Int32($0) }, label: Int32(texts[index].label))
                }
            }
        }
        self.init(examples: encoded, labelMap: dataset.labelMap)
    }

    /// A dataset of already encoded examples.
    /// - Precondition: every label is an id of `labelMap`.
    public init(examples: [EncodedExample], labelMap: LabelMap) {
        precondition(examples.allSatisfy { labelMap.contains(id: Int($0.label)) }, "every label must be an id of the label map")
        self.examples = examples
        self.labelMap = labelMap
        self.tokenCount = examples.reduce(0) { $0 + $1.length }
    }

    /// Number of examples.
    public var count: Int { examples.count }
    public var startIndex: Int { 0 }
    public var endIndex: Int { examples.count }
    public subscript(position: Int) -> EncodedExample { examples[position] }

    /// Number of tokens of each example. Shape [count].
    public var lengths: [Int] { examples.map(\.length) }

    /// Length of the longest example (0 when there are none).
    public var maximumLength: Int { examples.lazy.map(\.length).max() ?? 0 }
}
