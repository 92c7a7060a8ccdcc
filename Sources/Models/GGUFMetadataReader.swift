import Formats

/// Typed look-ups on a GGUF file's metadata whose errors are `ModelError`s naming the file and key.
struct GGUFMetadataReader {
    let file: GGUFFile

    func string(_ key: String) throws -> String { try wrapped(key) { try file.metadata.string(key) } }
    func int(_ key: String) throws -> Int { try wrapped(key) { try file.metadata.int(key) } }
    func float(_ key: String) throws -> Float { Float(try wrapped(key) { try file.metadata.float(key) }) }
    func array(_ key: String) throws -> GGUFArray { try wrapped(key) { try file.metadata.array(key) } }

    func optionalString(_ key: String) throws -> String? { file.metadata[key] == nil ? nil : try string(key) }
    func optionalInt(_ key: String) throws -> Int? { file.metadata[key] == nil ? nil : try int(key) }
    func optionalFloat(_ key: String) throws -> Float? { file.metadata[key] == nil ? nil : try float(key) }

    private func wrapped<Result>(_ key: String, _ read: () throws -> Result) throws -> Result {
        do {
            return try read()
        } catch let error as GGUFError {
            throw ModelError(file: file.name, key: key, error.detail)
        }
    }
}
