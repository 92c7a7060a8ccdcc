import FuzzSupport
import Tokenizers

/// The conversations every parsed template renders: none, one turn, and a system prompt with a
/// reply whose content looks like template syntax.
private let conversations: [[ChatMessage]] = [
    [],
    [ChatMessage(role: "user", content: "Hello!")],
    [
        ChatMessage(role: "system", content: "You are helpful."),
        ChatMessage(role: "user", content: "What is {{ 1 + 1 }}?"),
        ChatMessage(role: "assistant", content: "2 {% endif %}\n"),
        ChatMessage(role: "tool", content: ""),
    ],
]

/// Fuzzes `ChatTemplate`: the input is a template's Jinja source (as UTF-8, invalid bytes
/// replaced). A template that parses renders each conversation with and without the generation
/// prompt, under the default limits on output, loop iterations and nesting.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChatTemplate(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let source = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    guard let template = try? ChatTemplate(source: source) else { return 0 }
    for messages in conversations {
        for addGenerationPrompt in [false, true] {
            _ = try? template.render(
                messages: messages, addGenerationPrompt: addGenerationPrompt, bosToken: "<s>", eosToken: "</s>")
        }
    }
    return 0
}
