import Tensors

extension ForwardContext {
    /// Runs `module`'s forward pass on `input` under `checkpointActivations` when
    /// `checkpointsActivations` is set and gradients are recorded, plainly otherwise. The recomputed
    /// pass draws the same dropout masks: both runs start from this context's generator state, and
    /// this context's generator then moves on as the first run moved it, so a checkpointed run is
    /// the same function of its seed as a plain one. (B, T, C) → (B, T, C)
    public func checkpointed(_ input: Tensor, module: any Module,
                             _ forward: @escaping (Tensor, ForwardContext) -> Tensor) -> Tensor {
        guard checkpointsActivations, GradientMode.isEnabled else { return forward(input, self) }
        let start = generator, isTraining = self.isTraining, packed = packedSequences
        var advanced = start
        let output = checkpointActivations(of: input, requiresGradient: input.requiresGrad || !module.trainableParameters().isEmpty) { input in
            let run = ForwardContext(isTraining: isTraining, generator: start)
            let output = run.withPackedSequences(packed) { forward(input, run) }
            advanced = run.generator
            return output
        }
        generator = advanced
        return output
    }
}
