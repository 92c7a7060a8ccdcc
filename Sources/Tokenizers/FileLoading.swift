import Foundation

/// Bounds on what the loaders accept, so that a corrupt or hostile file fails with an error
/// instead of exhausting memory.
enum TokenizerLimits {
    /// Largest file read (tokenizer.json, vocab.txt, tokenizer_config.json).
    static let maximumFileByteCount = 512 << 20
    /// Longest token (vocabulary entry, added token, prefix) in UTF-8 bytes.
    static let maximumTokenByteCount = 1024
    /// Largest number of vocabulary entries, and the bound on ids (the id tables are sized by the
    /// largest id, so this also bounds their memory).
    static let maximumVocabularySize = 1 << 21

    static func checkToken(_ token: String, at codingPath: [any CodingKey]) throws {
        let byteCount = token.utf8.count
        if byteCount > maximumTokenByteCount {
            let start = String(token.prefix(16))
            throw ConfigurationProblem(
                .invalidValue("holds a token of \(byteCount) bytes (\"\(start)…\"); the limit is \(maximumTokenByteCount)"),
                at: codingPath)
        }
    }

    static func checkID(_ id: Int, at codingPath: [any CodingKey]) throws {
        if id < 0 || id >= maximumVocabularySize {
            throw ConfigurationProblem(
                .invalidValue("is \(id); ids must lie in 0..<\(maximumVocabularySize)"), at: codingPath)
        }
    }
}

/// Reading files and decoding JSON, with every failure turned into a `TokenizerError` that names
/// the file.
enum FileLoading {
    /// The bytes of `file`, refusing files larger than `TokenizerLimits.maximumFileByteCount`.
    static func read(_ file: URL) throws -> Data {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        } catch {
            throw TokenizerError.unreadableFile(file: file, reason: "no such file or not accessible")
        }
        if let size = (attributes[.size] as? NSNumber)?.intValue, size > TokenizerLimits.maximumFileByteCount {
            throw TokenizerError.unreadableFile(
                file: file, reason: "\(size) bytes is more than the limit of \(TokenizerLimits.maximumFileByteCount)")
        }
        do {
            return try Data(contentsOf: file)
        } catch {
            throw TokenizerError.unreadableFile(file: file, reason: error.localizedDescription)
        }
    }

    /// Decodes `data`, the contents of `file`, mapping decoding failures to `TokenizerError`.
    static func decode<Value: Decodable>(_ type: Value.Type, from data: Data, file: URL) throws -> Value {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let notBytePair as NotBytePairModel {
            throw notBytePair
        } catch let problem as ConfigurationProblem {
            switch problem.kind {
            case .unsupportedType(let found, let supported):
                throw TokenizerError.unsupportedType(file: file, key: problem.key, found: found, supported: supported)
            case .invalidValue(let reason):
                throw TokenizerError.invalidValue(file: file, key: problem.key, reason: reason)
            case .missingVocabulary:
                throw TokenizerError.missingVocabulary(file: file, key: problem.key)
            }
        } catch DecodingError.keyNotFound(let key, let context) {
            throw TokenizerError.missingKey(file: file, key: keyPath(context.codingPath + [key]))
        } catch DecodingError.typeMismatch(let expected, let context) {
            throw TokenizerError.invalidValue(
                file: file, key: keyPath(context.codingPath), reason: "has the wrong type (expected \(describe(expected)))")
        } catch DecodingError.valueNotFound(let expected, let context) {
            throw TokenizerError.invalidValue(
                file: file, key: keyPath(context.codingPath), reason: "is null (expected \(describe(expected)))")
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw malformed(data, file: file, fallbackReason: context.debugDescription)
        } catch DecodingError.dataCorrupted(let context) {
            throw TokenizerError.invalidValue(file: file, key: keyPath(context.codingPath), reason: context.debugDescription)
        } catch {
            throw TokenizerError.malformedJSON(file: file, position: nil, reason: String(describing: error))
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "an integer"
        case is Bool.Type: return "a boolean"
        default: return String(describing: type)
        }
    }

    /// The decoder does not say where JSON is broken; the serialization parser does, as a byte
    /// offset, which is turned into a line and column here.
    private static func malformed(_ data: Data, file: URL, fallbackReason: String) -> TokenizerError {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let reason = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? fallbackReason
            return .malformedJSON(file: file, position: position(in: data, reason: reason), reason: reason)
        }
        return .malformedJSON(file: file, position: nil, reason: fallbackReason)
    }

    /// "line L, column C" for the byte offset after "character " in `reason`, if there is one.
    private static func position(in data: Data, reason: String) -> String? {
        guard let marker = reason.range(of: "character ") else {
            return data.isEmpty || reason.contains("end of file") ? "end of file (byte \(data.count))" : nil
        }
        let digits = reason[marker.upperBound...].prefix { $0.isASCII && $0.isNumber }
        guard let offset = Int(digits), offset <= data.count else { return nil }
        var line = 1
        var lineStart = 0
        for (index, byte) in data.prefix(offset).enumerated() where byte == 0x0A {
            line += 1
            lineStart = index + 1
        }
        return "line \(line), column \(offset - lineStart + 1) (byte \(offset))"
    }
}
