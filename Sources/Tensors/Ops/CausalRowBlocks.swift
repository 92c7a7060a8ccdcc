/// The rows of one head's (T, S) score matrix in blocks, each with the keys its rows can see:
/// under a causal mask, query t sees keys ≤ t + offset, so a block of rows r0..<r1 needs only the
/// first min(S, r1 + offset) columns, and the products skip the blocks above the diagonal
/// (~3/8 of a square head's work with four blocks). Without the mask, one block holds every row
/// and column.
struct CausalRowBlocks: Sequence {
    /// Rows a block takes: small enough to skip most of the masked triangle, large enough that
    /// each product stays efficient.
    static let rowsPerBlock = 64

    let rows: Int, columns: Int, offset: Int
    /// Whether query t sees only keys ≤ t + offset (offset = S − T: the cached prefix).
    let causal: Bool

    struct Block {
        /// The query rows.
        let rows: Range<Int>
        /// Key columns 0..<columns are the ones these rows see.
        let columns: Int
    }

    func makeIterator() -> AnyIterator<Block> {
        let step = causal ? Self.rowsPerBlock : rows
        var start = 0
        let rows = self.rows, columns = self.columns, offset = self.offset, causal = self.causal
        return AnyIterator {
            guard start < rows else { return nil }
            let end = Swift.min(start + step, rows)
            defer { start = end }
            return Block(rows: start..<end, columns: causal ? Swift.min(columns, end + offset) : columns)
        }
    }
}
