import Tokenizers

/// The special-token strings a chat template sees as `bos_token` and `eos_token`: the tokenizer's, or empty.
struct ChatSpecialTokens: Sendable {
    let beginningOfSequence: String
    let endOfSequence: String

    init(tokenizer: any Tokenizer) {
        func spelling(_ id: Int?) -> String { id.flatMap { tokenizer.tokens(for: [$0]).first } ?? "" }
        beginningOfSequence = spelling(tokenizer.bosTokenID)
        endOfSequence = spelling(tokenizer.eosTokenID)
    }
}

/// Splits a rendered conversation into the prompt (the context rendered with `add_generation_prompt`) and the
/// completion (what the full conversation adds after it).
enum ChatRendering {
    /// The prompt and completion texts for `reply` after `context`.
    /// - Throws: `chatTemplateFailed` (at `column` of the row) when the template fails, or when the full
    ///   conversation's text does not start with the prompt's text, so that no boundary between them exists.
    static func split(
        context: [ChatMessage], reply: ChatMessage, template: ChatTemplate, specialTokens: ChatSpecialTokens,
        columns: RowColumns, column: String?
    ) throws(DatasetError) -> (prompt: String, completion: String) {
        let prompt: String
        let conversation: String
        do throws(ChatTemplateError) {
            prompt = try template.render(
                messages: context, addGenerationPrompt: true, bosToken: specialTokens.beginningOfSequence,
                eosToken: specialTokens.endOfSequence)
            conversation = try template.render(
                messages: context + [reply], addGenerationPrompt: false, bosToken: specialTokens.beginningOfSequence,
                eosToken: specialTokens.endOfSequence)
        } catch {
            throw columns.error(column: column, reason: .chatTemplateFailed(error.description))
        }
        guard conversation.utf8.starts(with: prompt.utf8) else {
            throw columns.error(
                column: column,
                reason: .chatTemplateFailed(
                    "the rendered conversation does not start with the prompt rendered with add_generation_prompt"))
        }
        let completion = String(decoding: Array(conversation.utf8.dropFirst(prompt.utf8.count)), as: UTF8.self)
        return (prompt, completion)
    }
}
