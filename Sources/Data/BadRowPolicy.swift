/// What loading does with a row that cannot be used (bad JSON, missing column, unknown label, ...).
public enum BadRowPolicy: Sendable, Equatable {
    /// Throw the row's `DatasetError`.
    case fail
    /// Leave the row out and record its error in the dataset's `skippedRows`.
    case skip
}
