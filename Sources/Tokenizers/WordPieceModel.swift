/// The WordPiece model: each word becomes the greedy longest-match sequence of vocabulary pieces,
/// pieces after the first carrying the continuing prefix (`##`). A word with more than
/// `maximumCharactersPerWord` scalars, or with a rest that no piece matches, is one unknown token.
struct WordPieceModel: Sendable {
    let vocabulary: TokenTable
    let unknownTokenID: Int32
    let continuingSubwordPrefix: [UInt8]
    let maximumCharactersPerWord: Int

    /// Reusable buffers for `tokenize`, so that words do not allocate.
    struct Scratch {
        var bytes: [UInt8] = []
        /// Byte offset where each scalar of the word starts, then the word's byte length.
        var boundaries: [Int] = []
    }

    /// Appends the ids of `word` to `ids`.
    func tokenize(_ word: ArraySlice<Unicode.Scalar>, into ids: inout [Int32], scratch: inout Scratch) {
        if word.count > maximumCharactersPerWord {
            ids.append(unknownTokenID)
            return
        }
        scratch.bytes.removeAll(keepingCapacity: true)
        scratch.boundaries.removeAll(keepingCapacity: true)
        for scalar in word {
            scratch.boundaries.append(scratch.bytes.count)
            let value = scalar.value
            if value < 0x80 {
                scratch.bytes.append(UInt8(value))
            } else {
                UTF8.encode(scalar) { scratch.bytes.append($0) }
            }
        }
        scratch.boundaries.append(scratch.bytes.count)

        let firstID = ids.count
        let scalarCount = word.count
        let boundaries = scratch.boundaries
        let longest = vocabulary.longestKeyByteCount
        let matched: Bool = scratch.bytes.withUnsafeBufferPointer { bytes in
            var start = 0
            while start < scalarCount {
                let prefix: [UInt8] = start > 0 ? continuingSubwordPrefix : []
                var end = scalarCount
                // Pieces longer than the longest vocabulary entry cannot match.
                while end > start && boundaries[end] - boundaries[start] + prefix.count > longest { end -= 1 }
                var found: Int32?
                while end > start {
                    let piece = UnsafeBufferPointer(rebasing: bytes[boundaries[start]..<boundaries[end]])
                    if let id = vocabulary.id(prefix: prefix, piece) {
                        found = id
                        break
                    }
                    end -= 1
                }
                guard let id = found else { return false }
                ids.append(id)
                start = end
            }
            return true
        }
        if !matched {
            ids.removeSubrange(firstID...)
            ids.append(unknownTokenID)
        }
    }
}
