/// Typed look-ups on a GGUF metadata dictionary that throw a `GGUFError` naming the key when it is missing
/// or holds another type: `try file.metadata.int("llama.block_count")`.
///
/// The errors carry no file name (a dictionary does not know its file); wrap them if the file matters.
extension Dictionary where Key == String, Value == GGUFValue {
    /// The value for `key`, or an error naming the key.
    public func value(_ key: String) throws -> GGUFValue {
        guard let value = self[key] else {
            throw GGUFError(file: "", field: "metadata '\(key)'", offset: nil, kind: .missingKey, detail: "key not present")
        }
        return value
    }

    /// The string stored at `key`.
    public func string(_ key: String) throws -> String {
        try typed(key, expected: "string") { $0.string }
    }

    /// The integer (of any integer type that fits in `Int`) stored at `key`.
    public func int(_ key: String) throws -> Int {
        try typed(key, expected: "an integer that fits in Int") { $0.int }
    }

    /// The `f32` or `f64` stored at `key`.
    public func float(_ key: String) throws -> Double {
        try typed(key, expected: "f32 or f64") { $0.float }
    }

    /// The boolean stored at `key`.
    public func bool(_ key: String) throws -> Bool {
        try typed(key, expected: "bool") { $0.bool }
    }

    /// The array stored at `key`.
    public func array(_ key: String) throws -> GGUFArray {
        try typed(key, expected: "array") { $0.array }
    }

    /// The array of strings stored at `key` (e.g. `tokenizer.ggml.tokens`).
    public func strings(_ key: String) throws -> [String] {
        try typed(key, expected: "array of strings") { $0.array?.strings }
    }

    /// The array of integers stored at `key` (e.g. `tokenizer.ggml.token_type`).
    public func ints(_ key: String) throws -> [Int] {
        try typed(key, expected: "array of integers that fit in Int") { $0.array?.ints }
    }

    /// The array of `f32` or `f64` stored at `key` (e.g. `tokenizer.ggml.scores`).
    public func floats(_ key: String) throws -> [Double] {
        try typed(key, expected: "array of f32 or f64") { $0.array?.floats }
    }

    private func typed<Result>(_ key: String, expected: String, _ convert: (GGUFValue) -> Result?) throws -> Result {
        let stored = try value(key)
        guard let result = convert(stored) else {
            let found = stored.array.map { "array of \($0.elementType)" } ?? stored.type.description
            throw GGUFError(file: "", field: "metadata '\(key)'", offset: nil, kind: .typeMismatch,
                            detail: "expected \(expected), found \(found)")
        }
        return result
    }
}
