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
    /// The encoder's final hidden states (B, T, C).
    func encode(_ batch: TokenBatch, context: ForwardContext) -> Tensor
    /// Class scores (B, labels).
    func logits(_ batch: TokenBatch, context: ForwardContext) -> Tensor
}
