/// A read-only map from token bytes (UTF-8) to ids.
///
/// Keys compare byte for byte. A `[String: Int]` would not do: Swift strings compare by canonical
/// equivalence, so `"é"` and `"e\u{301}"` would be one key, while a vocabulary may hold both.
/// Lookups take a byte buffer plus an optional prefix (the `##` of continuing pieces) and allocate
/// nothing. Open addressing with linear probing over a power-of-two table at most half full.
struct TokenTable: Sendable {
    /// All keys, one after the other.
    private let keyBytes: [UInt8]
    /// Where key `entry` starts in `keyBytes`; `keyStarts[entry + 1]` is where it ends.
    private let keyStarts: [Int]
    private let entryIDs: [Int32]
    /// Entry index + 1 at each slot, 0 for an empty slot.
    private let slots: [Int32]
    private let slotMask: Int
    /// The length in bytes of the longest key.
    let longestKeyByteCount: Int

    /// Builds the table. When a key appears twice, the later id wins.
    init(_ entries: [(token: String, id: Int32)]) {
        var keyBytes: [UInt8] = []
        var keyStarts: [Int] = [0]
        var entryIDs: [Int32] = []
        var slotCount = 16
        while slotCount < entries.count * 2 { slotCount *= 2 }
        var slots = [Int32](repeating: 0, count: slotCount)
        let slotMask = slotCount - 1
        var longest = 0
        keyBytes.reserveCapacity(entries.count * 8)
        keyStarts.reserveCapacity(entries.count + 1)
        entryIDs.reserveCapacity(entries.count)
        for (token, id) in entries {
            let start = keyBytes.count
            keyBytes.append(contentsOf: token.utf8)
            let length = keyBytes.count - start
            longest = max(longest, length)
            let hash = keyBytes.withUnsafeBufferPointer { buffer in
                TokenTable.hash(prefix: [], UnsafeBufferPointer(rebasing: buffer[start..<(start + length)]))
            }
            var slot = Int(truncatingIfNeeded: hash) & slotMask
            var duplicateOf: Int?
            while slots[slot] != 0 {
                let other = Int(slots[slot]) - 1
                let otherStart = keyStarts[other]
                if keyStarts[other + 1] - otherStart == length
                    && keyBytes[otherStart..<(otherStart + length)].elementsEqual(keyBytes[start..<(start + length)]) {
                    duplicateOf = other
                    break
                }
                slot = (slot + 1) & slotMask
            }
            if let duplicateOf {
                keyBytes.removeSubrange(start...)
                entryIDs[duplicateOf] = id
                continue
            }
            entryIDs.append(id)
            keyStarts.append(keyBytes.count)
            slots[slot] = Int32(entryIDs.count)
        }
        self.keyBytes = keyBytes
        self.keyStarts = keyStarts
        self.entryIDs = entryIDs
        self.slots = slots
        self.slotMask = slotMask
        self.longestKeyByteCount = longest
    }

    /// Number of distinct keys.
    var count: Int { entryIDs.count }

    /// Every key with its id, in the order they were first added.
    var entries: [(token: String, id: Int32)] {
        entryIDs.indices.map { entry in
            (String(decoding: keyBytes[keyStarts[entry]..<keyStarts[entry + 1]], as: UTF8.self), entryIDs[entry])
        }
    }

    /// The id of `prefix` followed by `bytes`, or nil.
    func id(prefix: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        let length = prefix.count + bytes.count
        if length > longestKeyByteCount { return nil }
        var slot = Int(truncatingIfNeeded: TokenTable.hash(prefix: prefix, bytes)) & slotMask
        return keyBytes.withUnsafeBufferPointer { keys in
            slots.withUnsafeBufferPointer { slots in
                while true {
                    let stored = Int(slots[slot])
                    if stored == 0 { return nil }
                    let entry = stored - 1
                    let start = keyStarts[entry]
                    if keyStarts[entry + 1] - start == length
                        && TokenTable.matches(keys, at: start, prefix: prefix, bytes) {
                        return entryIDs[entry]
                    }
                    slot = (slot + 1) & slotMask
                }
            }
        }
    }

    /// The id of `token`, or nil.
    func id(of token: String) -> Int32? {
        var token = token
        return token.withUTF8 { id(prefix: [], $0) }
    }

    private static func matches(
        _ keys: UnsafeBufferPointer<UInt8>, at start: Int, prefix: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        var position = start
        for byte in prefix {
            if keys[position] != byte { return false }
            position += 1
        }
        for byte in bytes {
            if keys[position] != byte { return false }
            position += 1
        }
        return true
    }

    /// 64-bit FNV-1a of `prefix` then `bytes`.
    private static func hash(prefix: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in prefix {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash ^ (hash >> 29)
    }
}
