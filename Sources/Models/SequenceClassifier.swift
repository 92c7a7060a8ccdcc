import NN
import Tensors

/// An encoder with a sequence-classification head (BERT: pooler + classifier; DistilBERT:
/// pre_classifier + classifier), with the names PEFT and the trainer need.
public protocol SequenceClassifier: Module {
    var config: EncoderConfig { get }
    var labelCount: Int { get }
    /// Paths of the head modules, which every method trains (PEFT's `modules_to_save`).
    var headModulePaths: [String] { get }
    /// Paths of the encoder layers, first to last (for training only the last N).
    var encoderLayerPaths: [String] { get }
    /// The encoder's final hidden states: (B, T, C) for a padded batch, (N, C) for a packed one.
    func encode(_ batch: some EncoderInput, context: ForwardContext) -> Tensor
    /// Class scores (B, labels), from each sequence's first token.
    func logits(_ batch: some EncoderInput, context: ForwardContext) -> Tensor
}
