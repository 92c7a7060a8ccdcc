import Foundation
import Tokenizers

/// Where the examples come from and how they become token ids.
public struct DataSettings: Sendable, Equatable {
    public var trainFile: String? = nil
    public var validationFile: String? = nil
    public var textColumn: String = "text"
    public var labelColumn: String = "label"
    /// Class names in id order (`id2label`); the labels of a file are ids into this list or names in it.
    public var labels: [String]? = nil
    public var maxLength: Int? = nil
    public var truncationSide: TruncationSide = .right
    /// Skip rows that cannot be used (counting them) instead of stopping.
    public var skipBadRows: Bool = false
    /// Language modelling on a corpus: pack documents (joined with EOS) into blocks of this many
    /// tokens; without it, one document per example, cut at `max_length`.
    public var blockLength: Int? = nil
    /// Supervised fine-tuning: a prompt with `{column}` placeholders, e.g.
    /// `"Please answer the following question.\nQ: {instruction}\nA: "`; the completion is `completion_column`.
    public var promptTemplate: String? = nil
    /// Supervised fine-tuning with the model's chat template: the prompt column becomes the user turn.
    public var chat: Bool = false
    public var promptColumn: String = "prompt"
    public var completionColumn: String = "output"
    /// Supervised fine-tuning on conversations: a column of `{role, content}` lists, rendered by the
    /// chat template; the loss is on the last assistant message.
    public var messagesColumn: String? = nil
    /// The fewest prompt tokens kept when an example is cut to `max_length`.
    public var maxPromptLength: Int? = nil
    /// Preference data: the text between a prompt and each completion (hh-rlhf's prompts end in
    /// "Assistant:" and its completions were stripped).
    public var completionSeparator: String = " "

    public init() {}

    /// Every data setting: key, help and the check of its value.
    public static var settings: [Setting<Self>] {
        [
            .value(\.trainFile, "train_file", "the training data: JSONL or CSV (a header row), or .txt for a corpus"),
            .value(\.validationFile, "validation_file", "the validation data, in the same format"),
            .value(\.textColumn, "text_column", "the column holding the text"),
            .value(\.labelColumn, "label_column", "classification: the column holding the label"),
            .value(\.labels, "labels", "classification: class names in id order (id2label)"),
            .value(\.maxLength, "max_length", "truncate examples to this many tokens, special tokens included",
                   check: { $0.map { $0 >= 2 ? nil : "must be at least 2" } ?? nil }),
            .value(\.truncationSide, "truncation_side", "which end of a long text is cut"),
            .value(\.skipBadRows, "skip_bad_rows", "skip (and count) unusable rows instead of stopping"),
            .value(\.blockLength, "block_length", "causal-lm: pack the corpus into blocks of this many tokens",
                   check: { $0.map { $0 >= 2 ? nil : "must be at least 2" } ?? nil }),
            .value(\.promptTemplate, "prompt_template", "sft: the prompt, with {column} placeholders"),
            .value(\.chat, "chat", "sft: render prompts with the model's chat template"),
            .value(\.promptColumn, "prompt_column", "sft with chat: the column holding the user turn"),
            .value(\.completionColumn, "completion_column", "sft: the column holding the completion"),
            .value(\.messagesColumn, "messages_column", "sft: a column of {role, content} conversations"),
            .value(\.maxPromptLength, "max_prompt_length", "sft: the fewest prompt tokens kept when an example is cut"),
            .value(\.completionSeparator, "completion_separator", "reward: the text between a prompt and each completion"),
        ]
    }
}

extension TruncationSide: SettingChoice {}
