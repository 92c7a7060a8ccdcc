/// Activation checkpointing (`torch.utils.checkpoint`, transformers' `gradient_checkpointing`):
/// `body` runs on `input` without recording, so none of its intermediate tensors are kept; the
/// backward pass runs it again with recording on and sends the output's gradient back through
/// that second run, into `input` and into the parameters `body` reads. Memory then holds one
/// block's activations at a time instead of every block's, for one more forward pass.
///
/// `body` must compute the same function both times (random draws from state fixed before the
/// call) and read no recorded tensor besides `input`. `requiresGradient` says whether its output
/// needs a gradient: `input` does, or trainable parameters are read. (B, …) → (B, …)
public func checkpointActivations(of input: Tensor, requiresGradient: Bool, _ body: @escaping (Tensor) -> Tensor) -> Tensor {
    guard GradientMode.isEnabled, requiresGradient else { return body(input) }
    let output = GradientMode.withoutGradients { body(input) }
    output.requiresGrad = true
    output.record(inputs: [input]) { output in
        let replayInput = Tensor(shape: input.shape, storage: input.storage, requiresGrad: input.requiresGrad)
        let replayed = body(replayInput)
        replayed.backward(gradient: output.grad!)  // the output slot's gradient
        if input.requiresGrad, let gradient = replayInput.grad { input.accumulateGradient(gradient.pointer) }
    }
    return output
}
