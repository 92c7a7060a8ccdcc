import Foundation

/// Which end of a sequence loses tokens when it is longer than the maximum length.
public enum TruncationSide: String, Codable, Sendable, CaseIterable {
    case left, right
}

/// Truncation to a maximum number of ids, special tokens included (as `truncation=True,
/// max_length=N` in transformers).
public struct Truncation: Sendable, Equatable {
    public var maxLength: Int
    public var side: TruncationSide
    public init(maxLength: Int, side: TruncationSide = .right) {
        self.maxLength = maxLength
        self.side = side
    }
}

/// Text ⇄ token ids. Every tokenizer of the project (WordPiece, byte-level BPE) conforms.
public protocol Tokenizer: Sendable {
    /// Ids of `text`; with `addSpecialTokens` the post-processor's template (e.g. `[CLS] $A [SEP]`) is applied,
    /// and with `truncation` the result (special tokens included) is cut to `maxLength`.
    func encode(_ text: String, addSpecialTokens: Bool, truncation: Truncation?) -> [Int]
    /// The vocabulary strings of `ids`.
    func tokens(for ids: [Int]) -> [String]
    /// Text for `ids`, as the tokenizer's decoder produces it.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String
    /// The id of a vocabulary string, or nil.
    func id(forToken token: String) -> Int?
    /// Number of ids (vocabulary plus added tokens).
    var vocabularySize: Int { get }
    /// The padding id, if the tokenizer has one.
    var padTokenID: Int? { get }
    /// End-of-sequence id, if any (decoders stop on it).
    var eosTokenID: Int? { get }
    /// Beginning-of-sequence id, if any.
    var bosTokenID: Int? { get }
    /// The longest input the model takes (`model_max_length` of `tokenizer_config.json`), if known.
    var modelMaxLength: Int? { get }
}

extension Tokenizer {
    /// Unknown unless the tokenizer says otherwise.
    public var modelMaxLength: Int? { nil }

    /// None unless the tokenizer says otherwise.
    public var bosTokenID: Int? { nil }

    public func encode(_ text: String) -> [Int] {
        encode(text, addSpecialTokens: true, truncation: nil)
    }
}
