// Classification metrics over predicted and true label ids, as scikit-learn computes them.

/// Fraction of predictions equal to their label.
/// - Precondition: both lists have the same, non-zero, length.
public func accuracy<Label: BinaryInteger>(predictions: [Label], labels: [Label]) -> Double {
    precondition(predictions.count == labels.count, "predictions and labels must have the same length")
    precondition(!labels.isEmpty, "accuracy of no examples")
    let correct = zip(predictions, labels).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
    return Double(correct) / Double(labels.count)
}

/// How F1 is taken over the classes.
public enum F1Average: Sendable, Equatable {
    /// F1 of one class, the positive one (sklearn's `average="binary"`, `pos_label`).
    case binary(positiveLabel: Int = 1)
    /// Unweighted mean of each class's F1 over the classes that occur in the predictions or the labels (sklearn's
    /// `average="macro"`).
    case macro
}

/// F1 score: the harmonic mean of precision and recall, `2·TP / (2·TP + FP + FN)`; a class with no true
/// positives, false positives or false negatives scores 0 (sklearn's `zero_division=0`).
/// - Precondition: both lists have the same, non-zero, length.
public func f1<Label: BinaryInteger>(predictions: [Label], labels: [Label], average: F1Average = .binary()) -> Double {
    precondition(predictions.count == labels.count, "predictions and labels must have the same length")
    precondition(!labels.isEmpty, "F1 of no examples")
    switch average {
    case .binary(let positiveLabel):
        return classF1(Label(positiveLabel), predictions: predictions, labels: labels)
    case .macro:
        let classes = Set(predictions).union(labels)
        let total = classes.reduce(0.0) { $0 + classF1($1, predictions: predictions, labels: labels) }
        return total / Double(classes.count)
    }
}

/// One-versus-rest F1 of class `positive`.
private func classF1<Label: BinaryInteger>(_ positive: Label, predictions: [Label], labels: [Label]) -> Double {
    var truePositives = 0, falsePositives = 0, falseNegatives = 0
    for (prediction, label) in zip(predictions, labels) {
        switch (prediction == positive, label == positive) {
        case (true, true): truePositives += 1
        case (true, false): falsePositives += 1
        case (false, true): falseNegatives += 1
        case (false, false): break
        }
    }
    let denominator = 2 * truePositives + falsePositives + falseNegatives
    return denominator == 0 ? 0 : Double(2 * truePositives) / Double(denominator)
}
