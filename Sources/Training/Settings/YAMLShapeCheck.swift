import CYaml
import Yams

/// Checks the shape of a YAML run configuration before it is decoded, so that a hostile or
/// broken file fails with a `ConfigError` instead of exhausting the stack or memory, or trapping:
///
/// - Nesting deeper than ``maximumDepth`` is refused. Yams builds its node tree recursively, so
///   a few thousand `[` would overflow the stack; the depth is measured first with libyaml's
///   event parser, which keeps its own stack.
/// - A document larger than ``maximumNodes`` nodes, counting every alias as a copy of what it
///   names, is refused ("billion laughs": a few lines of aliases of aliases that expand to
///   billions of nodes).
/// - A key repeated in one mapping is refused, naming it (Yams would trap building a dictionary).
enum YAMLShapeCheck {
    /// The deepest nesting of collections accepted; a run configuration needs 3.
    static let maximumDepth = 64
    /// The most nodes accepted, aliases expanded.
    static let maximumNodes = 100_000

    /// Composes `text` into its node tree after checking its depth, then checks its size and keys.
    /// Returns nil for an empty document.
    /// - Throws: `ConfigError` naming `file` and the key path; Yams' errors for invalid YAML.
    static func compose(_ text: String, file: String) throws -> Node? {
        if let depth = nestingDepth(of: text, stoppingAbove: maximumDepth), depth > maximumDepth {
            throw ConfigError(file: file, key: "(syntax)", "collections nest more than \(maximumDepth) levels deep")
        }
        guard let root = try Yams.compose(yaml: text) else { return nil }
        var nodesLeft = maximumNodes
        try check(root, path: [], nodesLeft: &nodesLeft, file: file)
        return root
    }

    /// How deeply the collections of `text` nest, from libyaml's events (no tree is built);
    /// stops counting once past `limit`. Nil when libyaml finds a syntax error before that, which
    /// composing then reports with its own message.
    static func nestingDepth(of text: String, stoppingAbove limit: Int) -> Int? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer -> Int? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var depth = 0
            var deepest = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    depth += 1
                    deepest = max(deepest, depth)
                    if deepest > limit { return deepest }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    depth -= 1
                case YAML_STREAM_END_EVENT:
                    return deepest
                default:
                    break
                }
            }
        }
    }

    /// Walks `node` as a tree (an alias is walked again at each use), counting nodes against
    /// `nodesLeft` and rejecting repeated keys.
    private static func check(_ node: Node, path: [String], nodesLeft: inout Int, file: String) throws {
        nodesLeft -= 1
        guard nodesLeft >= 0 else {
            throw ConfigError(
                file: file, key: path.isEmpty ? "(syntax)" : path.joined(separator: "."),
                "the document holds more than \(maximumNodes) values (aliases expanded)")
        }
        switch node {
        case .scalar:
            return
        case .sequence(let sequence):
            for (index, element) in sequence.enumerated() {
                try check(element, path: path + [String(index)], nodesLeft: &nodesLeft, file: file)
            }
        case .mapping(let mapping):
            var seen = Set<String>()
            for (key, value) in mapping {
                try check(key, path: path, nodesLeft: &nodesLeft, file: file)
                let name = key.scalar?.string ?? "(key)"
                if let text = key.scalar?.string, !seen.insert(text).inserted {
                    throw ConfigError(file: file, key: (path + [name]).joined(separator: "."), "appears more than once")
                }
                try check(value, path: path + [name], nodesLeft: &nodesLeft, file: file)
            }
        }
    }
}
