import NN
import Tensors

/// A transformer encoder layer (BERT's `BertLayer`, DistilBERT's `TransformerBlock`), which can
/// also give its output at each sequence's first token alone.
protocol EncoderBlock {
    /// (B, T, C) → (B, T, C), or (N, C) → (N, C)
    func callAsFunction(_ hidden: Tensor, input: some EncoderInput, context: ForwardContext) -> Tensor
    /// The output at each sequence's first token only: (B, T, C) or (N, C) → (B, C).
    func firstTokens(_ hidden: Tensor, input: some EncoderInput, context: ForwardContext) -> Tensor
}

/// The last hidden states of each sequence's first token (B, C), what a classification head
/// reads: `layers` run over the embedded tokens, the last one on the first tokens only, so it
/// computes no other row's query, attention, projections or feed-forward, in either pass.
/// - embed: the embeddings of `input`, (B, T, C) or (N, C).
func firstTokenStates(of layers: [some EncoderBlock], input: some EncoderInput, context: ForwardContext,
                      embed: () -> Tensor) -> Tensor {
    context.withPackedSequences(input.packedSequences) {
        var hidden = embed()
        for layer in layers.dropLast() {
            hidden = layer(hidden, input: input, context: context)
        }
        guard let last = layers.last else { return gatherRows(hidden, indices: input.firstTokenRows) }
        return last.firstTokens(hidden, input: input, context: context)
    }
}
