/// Sequences of different lengths laid end to end as the rows of one (N, C) tensor, with no
/// padding between them: sequence i holds rows `offsets[i]..<offsets[i + 1]` (FlashAttention's
/// varlen layout, `offsets` being its `cu_seqlens`).
///
/// The same batch padded on the right to its longest sequence T is the padded layout (B, T);
/// dropout in a packed pass draws its masks for that layout and keeps the real tokens' values,
/// so each token gets the mask value it would get padded.
public struct PackedSequences: Sendable, Equatable {
    /// Cumulative lengths from 0 to N. (B + 1)
    public let offsets: [Int]
    /// The longest sequence: T of the padded layout.
    public let longest: Int

    /// Sequences of these lengths, in order.
    /// - Precondition: every length is at least 1 (each sequence has a first token).
    public init(lengths: [Int]) {
        precondition(lengths.allSatisfy { $0 > 0 }, "packed sequences need at least one token each, got lengths \(lengths)")
        var offsets = [0]
        offsets.reserveCapacity(lengths.count + 1)
        for length in lengths { offsets.append(offsets.last! + length) }
        self.offsets = offsets
        longest = lengths.max() ?? 0
    }

    /// Number of sequences (B).
    public var count: Int { offsets.count - 1 }

    /// Number of tokens of all sequences together (N).
    public var tokenCount: Int { offsets.last! }

    /// The rows of sequence `index`.
    public func rows(of index: Int) -> Range<Int> { offsets[index]..<offsets[index + 1] }

    /// Each sequence's first row. (B)
    public var firstRows: [Int] { Array(offsets.dropLast()) }

    /// Position of each row within its sequence, restarting at 0 for every sequence. (N)
    public var positions: [Int32] {
        var result: [Int32] = []
        result.reserveCapacity(tokenCount)
        for index in 0..<count { result += (0..<Int32(rows(of: index).count)) }
        return result
    }
}
