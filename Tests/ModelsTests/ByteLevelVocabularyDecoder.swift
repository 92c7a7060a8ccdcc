import Formats

/// Turns SmolLM2 ids back into text from the GGUF file's own vocabulary (`tokenizer.ggml.tokens`,
/// byte-level BPE strings): each character of a token stands for one byte, in GPT-2's byte ↔
/// character table. Enough to compare generated text in tests without the tokenizer target.
struct ByteLevelVocabularyDecoder {
    private let tokens: [String]
    private let byteForCharacter: [Character: UInt8]

    init(file: GGUFFile) throws {
        tokens = try file.metadata.strings("tokenizer.ggml.tokens")
        // Printable bytes stand for themselves; the others take the characters from U+0100 on.
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        var table: [Character: UInt8] = [:]
        var next = 256
        for byte in 0...255 {
            let scalar = printable.contains(byte) ? byte : { defer { next += 1 }; return next }()
            table[Character(Unicode.Scalar(UInt32(scalar))!)] = UInt8(byte)
        }
        byteForCharacter = table
    }

    func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            for character in tokens[Int(id)] {
                bytes.append(byteForCharacter[character] ?? UInt8(ascii: "?"))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
