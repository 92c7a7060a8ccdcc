/// A chat template: the Jinja program a model ships (`chat_template` in `tokenizer_config.json`,
/// `tokenizer.chat_template` in GGUF) that turns a conversation into the model's prompt text.
///
/// This is a small, safe interpreter for the subset of Jinja that chat templates use (those of
/// SmolLM2, Llama 3, Mistral, Qwen2 and ChatML among them), rendered the way transformers'
/// `apply_chat_template` renders, with `trim_blocks` and `lstrip_blocks`:
/// - `{{ expression }}`, `{% if %}`/`{% elif %}`/`{% else %}`/`{% endif %}`,
///   `{% for x in items [if condition] %}`…`{% else %}`…`{% endfor %}` with `loop.index`,
///   `loop.index0`, `loop.first`, `loop.last`, `loop.length`, …, `{% break %}`,
///   `{% continue %}`, `{% set x = … %}` (also `ns.attribute` of a `namespace()`, and
///   `{% set x %}…{% endset %}`), `{% generation %}`, comments, and whitespace control
///   (`{%-`, `-%}`, `{{-`, `-}}`, `{%+`);
/// - string, number, list and dict literals; `+ - * / // % **`, `~`, comparisons, `in`,
///   `not in`, `and`, `or`, `not`, `x if c else y`; attributes and subscripts
///   (`message['role']`, `message.content`, `messages[1:]`);
/// - filters `trim`, `length`/`count`, `upper`, `lower`, `title`, `capitalize`, `tojson`,
///   `default`/`d`, `first`, `last`, `join`, `list`, `items`, `string`, `int`, `float`, `abs`,
///   `replace`, `reverse`, `safe`, `escape`/`e`, `select`, `reject`, `selectattr`, `rejectattr`,
///   `map`, `unique`, `indent`, `round`, `sum`, `max`, `min`, `dictsort`, `sort`;
/// - tests `defined`, `undefined`, `none`, `string`, `number`, `integer`, `float`, `mapping`,
///   `iterable`, `sequence`, `boolean`, `true`, `false`, `odd`, `even`, `divisibleby`,
///   `equalto`/`eq`, `ne`, `lt`, `le`, `gt`, `ge`, `in`, `lower`, `upper`, `sameas`;
/// - string methods `strip`, `lstrip`, `rstrip`, `upper`, `lower`, `title`, `capitalize`,
///   `startswith`, `endswith`, `split`, `replace`, `find`, `count`, `join`; dict methods
///   `items`, `keys`, `values`, `get`; `loop.cycle(...)`;
/// - `raise_exception(message)`, which throws a `ChatTemplateError` of kind `.raised`;
///   `range(...)` and `namespace(...)`.
///
/// The template reads only the variables it is given (`messages`, `add_generation_prompt`,
/// `bos_token`, `eos_token`); it cannot touch files, processes, the clock or the environment.
/// Output size, loop iterations and nesting depth are bounded. Anything outside the subset
/// throws a `ChatTemplateError` naming the line and column.
public struct ChatTemplate: Sendable {
    /// Bounds on what rendering may do.
    public struct Limits: Sendable, Equatable {
        /// Largest output, and largest string any operation may build, in UTF-8 bytes.
        public var maximumOutputBytes: Int
        /// Most loop iterations in one rendering, all loops together.
        public var maximumLoopIterations: Int
        /// Deepest nesting of blocks and of expressions.
        public var maximumNestingDepth: Int

        /// The limits; the defaults are 1 MiB of output, 100 000 loop iterations and 64 levels.
        public init(maximumOutputBytes: Int = 1 << 20, maximumLoopIterations: Int = 100_000, maximumNestingDepth: Int = 64) {
            self.maximumOutputBytes = maximumOutputBytes
            self.maximumLoopIterations = maximumLoopIterations
            self.maximumNestingDepth = maximumNestingDepth
        }
    }

    /// The Jinja source.
    public let source: String
    /// The bounds rendering runs under.
    public let limits: Limits
    private let nodes: [TemplateNode]

    /// Parses `source`.
    /// - Throws: `ChatTemplateError` for a template that is malformed (`.syntax`: an unclosed
    ///   tag, string or block, an unexpected token) or uses what is not supported
    ///   (`.unsupported`: an unknown filter or test, `include`, `macro`, ...).
    public init(source: String, limits: Limits = Limits()) throws(ChatTemplateError) {
        self.source = source
        self.limits = limits
        do {
            let chunks = try TemplateLexer(source: source).chunks()
            var parser = TemplateParser(chunks: chunks, maximumDepth: limits.maximumNestingDepth)
            nodes = try parser.parseTemplate()
        } catch {
            throw Self.templateError(error)
        }
    }

    /// The prompt text for `messages`.
    /// - Parameters:
    ///   - addGenerationPrompt: the template's `add_generation_prompt`: end with the header of
    ///     the assistant's turn, so that the model writes the reply.
    ///   - bosToken: the template's `bos_token`.
    ///   - eosToken: the template's `eos_token`.
    /// - Throws: `ChatTemplateError`: `.raised` when the template calls `raise_exception`,
    ///   `.evaluation` for a failing operation, `.limitExceeded` past a limit.
    public func render(
        messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String = "", eosToken: String = ""
    ) throws(ChatTemplateError) -> String {
        let messageValues = messages.map { message in
            TemplateValue.dictionary(TemplateDictionary([
                ("role", .string(message.role)), ("content", .string(message.content)),
            ]))
        }
        var interpreter = TemplateInterpreter(
            variables: [
                "messages": .list(messageValues),
                "add_generation_prompt": .boolean(addGenerationPrompt),
                "bos_token": .string(bosToken),
                "eos_token": .string(eosToken),
            ],
            limits: limits)
        do {
            return try TemplateValue.$representationLimit.withValue(limits.maximumOutputBytes) {
                try interpreter.render(nodes)
            }
        } catch {
            throw Self.templateError(error)
        }
    }

    private static func templateError(_ error: any Error) -> ChatTemplateError {
        if let error = error as? ChatTemplateError { return error }
        return ChatTemplateError(kind: .evaluation, message: String(describing: error), line: 0, column: 0)
    }
}
