import Tokenizers

/// How a row of a supervised dataset becomes a prompt and a completion.
public enum PromptFormat: Sendable {
    /// The user's template filled in with the row's columns is the prompt; the string in `completionColumn` is the
    /// completion, followed by the end-of-sequence id. The prompt starts with the tokenizer's leading special tokens
    /// (a BOS id, for tokenizers that add one).
    case template(PromptTemplate, completionColumn: String = "output")

    /// The model's chat template over a user message (the string in `promptColumn`, after an optional system
    /// message) and an assistant message (the string in `completionColumn`). The prompt is the conversation rendered
    /// up to the assistant's turn with `add_generation_prompt`; the completion is the rest of the rendered
    /// conversation, whose end-of-turn text the template writes (no id is appended).
    case chat(ChatTemplate, promptColumn: String = "prompt", completionColumn: String = "completion", systemPrompt: String? = nil)

    /// The model's chat template over the conversation in `messagesColumn` (a list of `{"role", "content"}`
    /// objects) whose last message is the assistant's. The prompt is every message before it, rendered with
    /// `add_generation_prompt`; the completion is the rest of the rendered conversation. Only the last assistant
    /// message carries loss; earlier turns are context.
    case chatMessages(ChatTemplate, messagesColumn: String = "messages")

    /// Whether the format's text is plain (a template): the prompt gets the tokenizer's leading special tokens and the
    /// completion an end-of-sequence id. Chat templates write both themselves.
    var isPlainText: Bool {
        if case .template = self { return true }
        return false
    }
}
