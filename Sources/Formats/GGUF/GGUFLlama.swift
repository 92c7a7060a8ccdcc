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
        let sourceRows = queryKeySourceRows(rows: rows, heads: heads)
        return [Float](unsafeUninitializedCapacity: values.count) { output, initialized in
            values.withUnsafeBufferPointer { input in
                for (hfRow, ggufRow) in sourceRows.enumerated() {
                    (output.baseAddress! + hfRow * columns).initialize(from: input.baseAddress! + ggufRow * columns, count: columns)
                }
            }
            initialized = values.count
        }
    }

    /// The same permutation as a row map: element `r` is the GGUF row that holds Hugging Face row `r`
    /// (e.g. to reorder rows of quantised blocks without decoding them).
    ///
    /// - Precondition: `rows` is a multiple of `2 × heads`.
    public static func queryKeySourceRows(rows: Int, heads: Int) -> [Int] {
        precondition(heads > 0 && rows % (2 * heads) == 0, "rows must be a multiple of 2 × heads")
        let headSize = rows / heads
        let halfSize = headSize / 2
        return (0 ..< rows).map { hfRow in
            let head = hfRow / headSize, half = hfRow % headSize / halfSize, index = hfRow % halfSize
            return head * headSize + 2 * index + half
        }
    }
}
