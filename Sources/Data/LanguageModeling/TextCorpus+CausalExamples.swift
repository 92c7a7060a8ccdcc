import Tokenizers

extension TextCorpus {
    /// The documents' token ids, each tokenised without special tokens and followed by the end-of-sequence id, in
    /// document order. The work is spread over the processor's cores.
    /// - Precondition: the tokenizer has an end-of-sequence id.
    public func tokenizedDocuments(tokenizer: any Tokenizer) -> [[Int32]] {
        guard let endOfSequence = tokenizer.eosTokenID else {
            preconditionFailure("the tokenizer has no end-of-sequence id")
        }
        return ParallelMap.map(texts) { text in
            tokenizer.encode(text, addSpecialTokens: false, truncation: nil).map { Int32($0) } + [Int32(endOfSequence)]
        }
    }

    /// Fixed-length training sequences cut from the whole corpus (transformers' `group_texts`).
    ///
    /// Every document is tokenised without special tokens and followed by the end-of-sequence id; the results are
    /// joined in document order into one stream, which is cut into consecutive blocks of exactly `blockLength` ids.
    /// The remainder shorter than a block is dropped. Blocks cross document boundaries (the end-of-sequence id marks
    /// them), so no padding is ever needed and every token is scored: each example's labels equal its ids.
    ///
    /// - Returns: `stream.count / blockLength` examples, each of length `blockLength`.
    /// - Precondition: `blockLength` is positive and the tokenizer has an end-of-sequence id.
    public func packedBlocks(tokenizer: any Tokenizer, blockLength: Int) -> [CausalExample] {
        precondition(blockLength > 0, "blockLength must be positive")
        let stream = Array(tokenizedDocuments(tokenizer: tokenizer).joined())  // [total]
        let blockCount = stream.count / blockLength
        return (0..<blockCount).map { block in
            CausalExample(scoringEveryToken: Array(stream[block * blockLength..<(block + 1) * blockLength]))
        }
    }

    /// One training sequence per document, for batching with padding (`CausalCollator`).
    ///
    /// Each document is tokenised without special tokens and followed by the end-of-sequence id; a sequence longer
    /// than `maxLength` keeps its first `maxLength` ids (so a cut document loses its end-of-sequence id: it did not
    /// end there). Every token is scored: each example's labels equal its ids.
    ///
    /// - Parameter maxLength: the longest sequence kept whole; nil for no limit.
    /// - Precondition: `maxLength`, if given, is positive, and the tokenizer has an end-of-sequence id.
    public func paddedRows(tokenizer: any Tokenizer, maxLength: Int?) -> [CausalExample] {
        precondition(maxLength.map { $0 > 0 } ?? true, "maxLength must be positive")
        return tokenizedDocuments(tokenizer: tokenizer).map { ids in
            CausalExample(scoringEveryToken: maxLength.map { Array(ids.prefix($0)) } ?? ids)
        }
    }
}
