/// Helpers for Llama-architecture GGUF files.
public enum GGUFLlama {
    /// Undoes the row permutation llama.cpp's converter applies to `attn_q` and `attn_k` weights, giving the
    /// Hugging Face row order.
    ///
    /// The converter interleaves the two rotary halves of every head. With head size `D = rows / heads`, Hugging
    /// Face row `h·D + half·(D/2) + i` is GGUF row `h·D + 2i + half` (for `half` in 0…1, `i < D/2`).
    ///
    /// - Parameters:
    ///   - values: the row-major `[rows, columns]` matrix in GGUF row order (e.g. `[576, 576]` for SmolLM2's
    ///     `attn_q`, `[192, 576]` for its `attn_k`).
    ///   - heads: the number of heads the rows belong to (`llama.attention.head_count` for queries,
    ///     `head_count_kv` for keys).
    /// - Returns: the `[rows, columns]` matrix in Hugging Face row order.
    /// - Precondition: `values.count == rows × columns`, and `rows` is a multiple of `2 × heads`.
    public static func unpermuteQueryKey(_ values: [Float], rows: Int, columns: Int, heads: Int) -> [Float] {
        precondition(rows >= 0 && columns >= 0 && values.count == rows * columns, "values must hold rows × columns")
        precondition(heads > 0 && rows % (2 * heads) == 0, "rows must be a multiple of 2 × heads")
        let headSize = rows / heads
        let halfSize = headSize / 2
        return [Float](unsafeUninitializedCapacity: values.count) { output, initialized in
            values.withUnsafeBufferPointer { input in
                for head in 0 ..< heads {
                    for half in 0 ..< 2 {
                        for index in 0 ..< halfSize {
                            let hfRow = head * headSize + half * halfSize + index
                            let ggufRow = head * headSize + 2 * index + half
                            let target = output.baseAddress! + hfRow * columns
                            target.initialize(from: input.baseAddress! + ggufRow * columns, count: columns)
                        }
                    }
                }
            }
            initialized = values.count
        }
    }
}
