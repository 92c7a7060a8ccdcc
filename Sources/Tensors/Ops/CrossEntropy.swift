import CKernels

/// Mean cross-entropy of logits (N, K) against class labels (N); a label of -100 (or any
/// negative) is ignored, as in PyTorch. Softmax and loss are fused; the backward pass is
/// (softmax − onehot) / count. Returns a scalar; `countedRows` is set to the rows that counted.
public func crossEntropy(logits: Tensor, labels: [Int32]) -> Tensor {
    let rows = logits.rowCount, classes = logits.lastDimension
    precondition(labels.count == rows, "\(labels.count) labels for \(rows) rows of logits")
    let probabilities = TensorStorage(uninitializedCount: rows * classes)  // (N, K)
    var counted = 0
    let total = labels.withUnsafeBufferPointer {
        fk_cross_entropy(logits.pointer, $0.baseAddress!, probabilities.pointer, rows, classes, &counted)
    }
    let output = Tensor(scalar: counted == 0 ? 0 : Float(total / Double(counted)))
    if logits.isRecording && counted > 0 {
        output.requiresGrad = true
        let logitsSlot = logits.slot
        output.record(inputs: [logits]) { output in
            let scaleFactor = output.grad!.item / Float(counted)
            labels.withUnsafeBufferPointer {
                fk_cross_entropy_backward(probabilities.pointer, $0.baseAddress!, logitsSlot.gradientPointer(), rows, classes, scaleFactor)
            }
        }
    }
    return output
}
