/// The BPE merges as a read-only hash table: a pair of adjacent token ids → the merge's rank
/// (its line in the merges list; lower merges first) and the id of the merged token.
///
/// Open addressing with linear probing over a power-of-two table at most half full; keys and
/// values are packed into one `UInt64` each, so a lookup touches one or two cache lines.
struct MergeTable: Sendable {
    /// One merge: the rank and the id of the token it makes.
    struct Merge: Equatable, Sendable {
        var rank: Int32
        var mergedID: Int32
    }

    /// `left << 32 | right` per slot; `emptyKey` marks an empty slot.
    private let keys: [UInt64]
    /// `rank << 32 | mergedID` per slot.
    private let values: [UInt64]
    private let slotMask: Int
    /// Number of distinct pairs.
    let count: Int

    /// No id is negative, so this key never occurs.
    private static let emptyKey = UInt64.max

    /// Builds the table from `(left, right, merged)` in rank order. A pair listed twice keeps its
    /// later rank, as the reference does.
    init(_ merges: [(left: Int32, right: Int32, merged: Int32)]) {
        var slotCount = 16
        while slotCount < merges.count * 2 { slotCount *= 2 }
        var keys = [UInt64](repeating: Self.emptyKey, count: slotCount)
        var values = [UInt64](repeating: 0, count: slotCount)
        let slotMask = slotCount - 1
        var count = 0
        for (rank, merge) in merges.enumerated() {
            let key = Self.key(merge.left, merge.right)
            var slot = Self.slot(for: key, mask: slotMask)
            while keys[slot] != Self.emptyKey && keys[slot] != key { slot = (slot + 1) & slotMask }
            if keys[slot] == Self.emptyKey { count += 1 }
            keys[slot] = key
            values[slot] = UInt64(UInt32(rank)) << 32 | UInt64(UInt32(bitPattern: merge.merged))
        }
        self.keys = keys
        self.values = values
        self.slotMask = slotMask
        self.count = count
    }

    /// The merge of `left` followed by `right`, or nil when the pair does not merge.
    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> Merge? {
        let key = Self.key(left, right)
        var slot = Self.slot(for: key, mask: slotMask)
        return keys.withUnsafeBufferPointer { keys in
            while true {
                let stored = keys[slot]
                if stored == key {
                    let value = values[slot]
                    return Merge(rank: Int32(truncatingIfNeeded: value >> 32), mergedID: Int32(truncatingIfNeeded: value))
                }
                if stored == Self.emptyKey { return nil }
                slot = (slot + 1) & slotMask
            }
        }
    }

    /// Every pair that merges, lowest rank first (each pair once, at the rank it merges with).
    var pairsInRankOrder: [(left: Int32, right: Int32)] {
        keys.indices.filter { keys[$0] != Self.emptyKey }
            .sorted { values[$0] >> 32 < values[$1] >> 32 }
            .map { (Int32(truncatingIfNeeded: keys[$0] >> 32), Int32(truncatingIfNeeded: keys[$0])) }
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private static func slot(for key: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 29) & mask
    }
}
