/// The byte-level BPE model: a word's bytes start as one token each (the vocabulary entry of the
/// byte's mapped scalar), then adjacent pairs merge, the pair with the lowest rank first and the
/// leftmost among equals, until no pair in the word has a merge.
///
/// Short words scan their pairs; long words use a heap, which gives the same merges in the same
/// order in O(n log n). Results are cached per word.
struct BytePairModel: Sendable {
    /// Token string → id, compared byte for byte.
    let vocabulary: TokenTable
    let merges: MergeTable
    /// The id of each byte's single-scalar token, or -1 when the vocabulary lacks it.
    let idForByte: [Int32]
    /// What a byte without a token becomes; nil drops it.
    let unknownTokenID: Int32?
    /// Whether a run of unknown bytes becomes one unknown token.
    let fuseUnknown: Bool
    /// Whether a word that is itself in the vocabulary is taken whole, before any merge.
    let ignoreMerges: Bool
    let cache: WordCache

    /// Words up to this many symbols scan for the best pair; longer ones use the heap.
    static let scanLimit = 96

    init(vocabulary: TokenTable, merges: MergeTable, unknownTokenID: Int32?, fuseUnknown: Bool, ignoreMerges: Bool) {
        self.vocabulary = vocabulary
        self.merges = merges
        self.unknownTokenID = unknownTokenID
        self.fuseUnknown = fuseUnknown
        self.ignoreMerges = ignoreMerges
        self.idForByte = ByteLevelMapping.utf8ForByte.map { mapped in
            mapped.withUnsafeBufferPointer { vocabulary.id(prefix: [], $0) } ?? -1
        }
        self.cache = WordCache()
    }

    /// Reusable buffers, so that most words allocate nothing.
    struct Scratch {
        var mapped: [UInt8] = []
        var symbols: [Int32] = []
        var ranks: [Int32] = []
        var mergedIDs: [Int32] = []
        var previous: [Int32] = []
        var next: [Int32] = []
        var heap = MinimumHeap()
    }

    /// Appends the ids of `word` (its UTF-8 bytes) to `ids`.
    func tokenize(_ word: UnsafeBufferPointer<UInt8>, into ids: inout [Int32], scratch: inout Scratch) {
        guard !word.isEmpty else { return }
        if ignoreMerges, let id = wholeWordID(word, scratch: &scratch) {
            ids.append(id)
            return
        }
        let cacheable = word.count <= WordCache.maximumWordByteCount
        let hash = cacheable ? WordCache.hash(word) : 0
        if cacheable && cache.appendIDs(of: word, hash: hash, to: &ids) { return }

        initialSymbols(word, into: &scratch.symbols)
        if scratch.symbols.count <= Self.scanLimit {
            mergeByScanning(&scratch)
        } else {
            mergeWithHeap(&scratch)
        }
        let start = ids.count
        ids.append(contentsOf: scratch.symbols)
        if cacheable { cache.store(word, hash: hash, ids: ids[start...]) }
    }

    /// The id of the whole word's mapped string, if the vocabulary has it.
    private func wholeWordID(_ word: UnsafeBufferPointer<UInt8>, scratch: inout Scratch) -> Int32? {
        scratch.mapped.removeAll(keepingCapacity: true)
        for byte in word { scratch.mapped.append(contentsOf: ByteLevelMapping.utf8ForByte[Int(byte)]) }
        return scratch.mapped.withUnsafeBufferPointer { vocabulary.id(prefix: [], $0) }
    }

    /// One symbol per byte; bytes without a token become the unknown token (fused if asked) or
    /// are dropped when there is none.
    private func initialSymbols(_ word: UnsafeBufferPointer<UInt8>, into symbols: inout [Int32]) {
        symbols.removeAll(keepingCapacity: true)
        var previousWasUnknown = false
        for byte in word {
            let id = idForByte[Int(byte)]
            if id >= 0 {
                symbols.append(id)
                previousWasUnknown = false
            } else if let unknownTokenID {
                if !(fuseUnknown && previousWasUnknown) { symbols.append(unknownTokenID) }
                previousWasUnknown = true
            }
        }
    }

    /// Repeatedly merges the leftmost pair of lowest rank, keeping each pair's merge in
    /// `ranks`/`mergedIDs` (rank `Int32.max` for none) so that a merge looks up two new pairs only.
    private func mergeByScanning(_ scratch: inout Scratch) {
        let count = scratch.symbols.count
        guard count > 1 else { return }
        scratch.ranks.removeAll(keepingCapacity: true)
        scratch.mergedIDs.removeAll(keepingCapacity: true)
        for index in 0..<(count - 1) {
            let merge = merges.merge(scratch.symbols[index], scratch.symbols[index + 1])
            scratch.ranks.append(merge?.rank ?? .max)
            scratch.mergedIDs.append(merge?.mergedID ?? -1)
        }
        while !scratch.ranks.isEmpty {
            var best = 0
            var bestRank = scratch.ranks[0]
            for index in 1..<scratch.ranks.count where scratch.ranks[index] < bestRank {
                best = index
                bestRank = scratch.ranks[index]
            }
            if bestRank == .max { break }
            scratch.symbols[best] = scratch.mergedIDs[best]
            scratch.symbols.remove(at: best + 1)
            scratch.ranks.remove(at: best)
            scratch.mergedIDs.remove(at: best)
            if best > 0 { updatePair(best - 1, &scratch) }
            if best < scratch.ranks.count { updatePair(best, &scratch) }
        }
    }

    @inline(__always)
    private func updatePair(_ index: Int, _ scratch: inout Scratch) {
        let merge = merges.merge(scratch.symbols[index], scratch.symbols[index + 1])
        scratch.ranks[index] = merge?.rank ?? .max
        scratch.mergedIDs[index] = merge?.mergedID ?? -1
    }

    /// The same merges as `mergeByScanning`, for long words: the symbols form a linked list, and
    /// a heap holds candidate pairs keyed by (rank, position of the left symbol). An entry whose
    /// pair has changed since it was pushed no longer has that rank and is skipped.
    private func mergeWithHeap(_ scratch: inout Scratch) {
        let count = scratch.symbols.count
        scratch.previous.removeAll(keepingCapacity: true)
        scratch.next.removeAll(keepingCapacity: true)
        for index in 0..<count {
            scratch.previous.append(Int32(index - 1))
            scratch.next.append(index + 1 < count ? Int32(index + 1) : -1)
        }
        scratch.heap.removeAll()
        for index in 0..<(count - 1) {
            if let merge = merges.merge(scratch.symbols[index], scratch.symbols[index + 1]) {
                scratch.heap.push(rank: merge.rank, position: Int32(index))
            }
        }
        while let (rank, position) = scratch.heap.pop() {
            let left = Int(position)
            let leftSymbol = scratch.symbols[left]
            let right = Int(scratch.next[left])
            // A removed symbol (-1) or a last one cannot be the left of a pair.
            guard leftSymbol >= 0, right >= 0 else { continue }
            guard let merge = merges.merge(leftSymbol, scratch.symbols[right]), merge.rank == rank else { continue }
            scratch.symbols[left] = merge.mergedID
            scratch.symbols[right] = -1
            let afterRight = Int(scratch.next[right])
            scratch.next[left] = Int32(afterRight)
            if afterRight >= 0 { scratch.previous[afterRight] = Int32(left) }
            let before = Int(scratch.previous[left])
            if before >= 0, let merge = merges.merge(scratch.symbols[before], merge.mergedID) {
                scratch.heap.push(rank: merge.rank, position: Int32(before))
            }
            if afterRight >= 0, let merge = merges.merge(merge.mergedID, scratch.symbols[afterRight]) {
                scratch.heap.push(rank: merge.rank, position: Int32(left))
            }
        }
        // The first symbol is always a left, so it is never removed.
        var kept = 0
        var index = 0
        while index >= 0 {
            scratch.symbols[kept] = scratch.symbols[index]
            kept += 1
            index = Int(scratch.next[index])
        }
        scratch.symbols.removeSubrange(kept...)
    }
}

/// A binary min-heap of (rank, position) pairs packed into `UInt64`s, so that comparing two
/// entries compares the rank first and the position second.
struct MinimumHeap {
    private var entries: [UInt64] = []

    mutating func removeAll() { entries.removeAll(keepingCapacity: true) }

    mutating func push(rank: Int32, position: Int32) {
        entries.append(UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: position)))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if entries[parent] <= entries[child] { break }
            entries.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> (rank: Int32, position: Int32)? {
        guard let top = entries.first else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                if left >= entries.count { break }
                let right = left + 1
                let smaller = right < entries.count && entries[right] < entries[left] ? right : left
                if entries[parent] <= entries[smaller] { break }
                entries.swapAt(parent, smaller)
                parent = smaller
            }
        }
        return (Int32(truncatingIfNeeded: top >> 32), Int32(truncatingIfNeeded: top))
    }
}
