import Foundation

/// A bounded, thread-safe cache from a word's bytes to its BPE ids.
///
/// Words are spread over shards by hash, each shard behind its own lock, so that threads
/// tokenizing at once rarely wait on each other. A shard that fills up is emptied and starts
/// over. Lookups allocate nothing: entries are keyed by a 64-bit hash and hold the word's bytes to
/// rule out collisions.
final class WordCache: @unchecked Sendable {
    /// Words longer than this are not cached.
    static let maximumWordByteCount = 64

    private struct Entry {
        var word: [UInt8]
        var ids: [Int32]
    }

    /// One lock and the entries it guards. All access goes through `lock`.
    private final class Shard {
        let lock = NSLock()
        var entries: [UInt64: Entry] = [:]
    }

    private let shards: [Shard]
    private let entriesPerShard: Int

    /// A cache holding up to about `capacity` words.
    init(capacity: Int = 32_768, shardCount: Int = 16) {
        shards = (0..<shardCount).map { _ in Shard() }
        entriesPerShard = max(1, capacity / shardCount)
    }

    /// FNV-1a of the word's bytes.
    @inline(__always)
    static func hash(_ word: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in word { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    /// Appends the cached ids of `word` to `ids` and returns true, or returns false on a miss.
    func appendIDs(of word: UnsafeBufferPointer<UInt8>, hash: UInt64, to ids: inout [Int32]) -> Bool {
        let shard = shards[Int(truncatingIfNeeded: hash >> 59) % shards.count]
        shard.lock.lock()
        defer { shard.lock.unlock() }
        guard let entry = shard.entries[hash], entry.word.elementsEqual(word) else { return false }
        ids.append(contentsOf: entry.ids)
        return true
    }

    /// Remembers the ids of `word`.
    func store(_ word: UnsafeBufferPointer<UInt8>, hash: UInt64, ids: ArraySlice<Int32>) {
        let entry = Entry(word: Array(word), ids: Array(ids))
        let shard = shards[Int(truncatingIfNeeded: hash >> 59) % shards.count]
        shard.lock.lock()
        defer { shard.lock.unlock() }
        if shard.entries.count >= entriesPerShard { shard.entries.removeAll(keepingCapacity: true) }
        shard.entries[hash] = entry
    }
}
