import Foundation
import Tokenizers

/// Finds and loads the real tokenizers the project ships with or sets up: MiniLM's WordPiece
/// (`models/all-MiniLM-L6-v2`, or `$FINETUNE_MODELS/all-MiniLM-L6-v2`) and SmolLM2's byte-level BPE
/// (`../shared/golden/tokenizers/smollm2-tokenizer.json`, or under `$FINETUNE_SHARED`).
public enum RealTokenizers {
    /// The repository root, found from this file's path (`Fuzz/Sources/FuzzSupport/`).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Both tokenizers; stops the process, naming the path, when one cannot be loaded, since the
    /// fuzz target means nothing without them.
    public static func load() -> [any Tokenizer] {
        let environment = ProcessInfo.processInfo.environment
        let models = environment["FINETUNE_MODELS"].map { URL(fileURLWithPath: $0) }
            ?? repositoryRoot.appendingPathComponent("models")
        let wordPieceFolder = models.appendingPathComponent("all-MiniLM-L6-v2")
        do {
            return [try TokenizerLoader.load(directory: wordPieceFolder), try ByteLevelBPETokenizer(tokenizerJSON: smolLM2File())]
        } catch {
            fatalError("cannot load the real tokenizers (set FINETUNE_MODELS / FINETUNE_SHARED): \(error)")
        }
    }

    /// SmolLM2's tokenizer configured as transformers configures it (`<|im_end|>` ends a sequence and
    /// pads), as preference data needs it.
    public static func smolLM2() -> ByteLevelBPETokenizer {
        let configuration = TokenizerConfiguration(paddingToken: "<|im_end|>", beginningOfSequenceToken: "<|im_start|>",
                                                   endOfSequenceToken: "<|im_end|>", addsBeginningOfSequenceToken: false)
        do {
            return try ByteLevelBPETokenizer(tokenizerJSON: smolLM2File(), configuration: configuration)
        } catch {
            fatalError("cannot load SmolLM2's tokenizer (set FINETUNE_SHARED): \(error)")
        }
    }

    private static func smolLM2File() -> URL {
        let shared = ProcessInfo.processInfo.environment["FINETUNE_SHARED"].map { URL(fileURLWithPath: $0) }
            ?? repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
        return shared.appendingPathComponent("golden/tokenizers/smollm2-tokenizer.json")
    }
}
