import CKernels

/// Which attention probabilities dropout keeps. Element (r, c) of head `head`'s (T, S)
/// probabilities is dropped with `probability`, decided by a hash of the head's key and the
/// element's number r·S + c alone (`fk_dropout_stream`): no mask is stored or drawn in order, the
/// softmax kernels apply it row by row, any block of a head's mask is drawn without the elements
/// before it (so a packed sequence's L×L block equals the top-left block of its padded (T, T)
/// mask), and the backward pass applies the forward's mask again.
struct AttentionDropoutMask {
    let seed: UInt64
    /// A 16-bit draw below this drops its element.
    let threshold: UInt32
    let keepScale: Float

    init(seed: UInt64, probability: Float) {
        precondition(probability >= 0 && probability <= 1, "attention dropout probability \(probability) outside [0, 1]")
        self.seed = seed
        threshold = UInt32((probability * 65_536).rounded())
        keepScale = 1 / (1 - probability)
    }

    /// Head `head`'s stream, its rows `rowStride` elements long (S).
    func stream(head: Int, rowStride: Int) -> fk_dropout_stream {
        var generator = SeededGenerator(seed: seed &+ UInt64(head) &* 0x9E37_79B9_7F4A_7C15)
        return fk_dropout_stream(key: generator.next(), row_stride: rowStride, threshold: threshold, keep_scale: keepScale)
    }
}

/// Calls `body` with a pointer to `value`, or nil when there is none (an optional C argument).
func withOptionalPointer<T, Result>(to value: T?, _ body: (UnsafePointer<T>?) -> Result) -> Result {
    guard var value else { return body(nil) }
    return withUnsafePointer(to: &value) { body($0) }
}
