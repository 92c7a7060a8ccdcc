import Tensors

extension Module {
    /// The embedding tables below this module, by the path of their weight.
    public func embeddingTables() -> [String: Embedding] {
        var tables: [String: Embedding] = [:]
        for (path, module) in namedModules() {
            if let embedding = module as? Embedding { tables[joinPath(path, "weight")] = embedding }
        }
        return tables
    }

    /// Defers the rows of every trainable embedding table that can be (see
    /// `Embedding.deferRowsUntilLookedUp()`), before an optimizer is made for a training run.
    /// Returns the paths of the tables deferred.
    @discardableResult
    public func deferEmbeddingRows() -> [String] {
        embeddingTables().filter { $0.value.deferRowsUntilLookedUp() }.map(\.key).sorted()
    }

    /// Copies the rows still deferred into their tables (after a training run).
    public func materializeDeferredRows() {
        for table in embeddingTables().values { table.materializeDeferredRows() }
    }
}
