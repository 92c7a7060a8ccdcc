import Tensors

/// The padded layout (B, T, C) of packed rows (N, C): each sequence's rows, then `filler` rows up
/// to the longest sequence, as a right-padding collator lays a batch out.
func paddedLayout(_ packed: Tensor, _ sequences: PackedSequences, filler: Float = 0, requiresGrad: Bool = false) -> Tensor {
    let channels = packed.lastDimension, longest = sequences.longest
    var values = [Float](repeating: filler, count: sequences.count * longest * channels)
    for index in 0..<sequences.count {
        for (position, row) in sequences.rows(of: index).enumerated() {
            for column in 0..<channels {
                values[(index * longest + position) * channels + column] = packed.pointer[row * channels + column]
            }
        }
    }
    return Tensor(values, shape: [sequences.count, longest, channels], requiresGrad: requiresGrad)
}

/// The real tokens' rows (N, C) of values in the padded layout (B, T, C), flattened.
func packedRows(_ padded: [Float], _ sequences: PackedSequences, channels: Int) -> [Float] {
    (0..<sequences.count).flatMap { index in
        (0..<sequences.rows(of: index).count).flatMap { position in
            let start = (index * sequences.longest + position) * channels
            return padded[start..<(start + channels)]
        }
    }
}

/// The key mask (B, T) of the padded layout: 1 for a real token, 0 for padding.
func paddingMask(_ sequences: PackedSequences) -> Tensor {
    let values = (0..<sequences.count).flatMap { index in
        (0..<sequences.longest).map { position -> Float in position < sequences.rows(of: index).count ? 1 : 0 }
    }
    return Tensor(values, shape: [sequences.count, sequences.longest])
}
