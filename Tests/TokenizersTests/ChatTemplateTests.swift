import Foundation
import TestSupport
import Tokenizers
import XCTest

/// Chat templates: SmolLM2's against the golden conversations, hand-written templates in the
/// styles of Llama 3, ChatML/Qwen2 and Mistral, the Jinja subset, and errors with positions.
final class ChatTemplateTests: XCTestCase {
    private let user = ChatMessage(role: "user", content: "Hello")

    private func render(_ source: String, _ messages: [ChatMessage], generationPrompt: Bool = true,
                        bos: String = "<s>", eos: String = "</s>") throws -> String {
        try ChatTemplate(source: source).render(messages: messages, addGenerationPrompt: generationPrompt, bosToken: bos, eosToken: eos)
    }

    /// The error `body` throws; fails the test when it throws none.
    private func templateError(line: UInt = #line, _ body: () throws -> Any) -> ChatTemplateError? {
        do {
            _ = try body()
            XCTFail("no error", line: line)
        } catch let error as ChatTemplateError {
            return error
        } catch {
            XCTFail("not a ChatTemplateError: \(error)", line: line)
        }
        return nil
    }

    private func assertError(
        _ error: ChatTemplateError?, _ kind: ChatTemplateError.Kind, line: Int, column: Int, _ fragment: String,
        file: StaticString = #filePath, testLine: UInt = #line
    ) {
        guard let error else { return }
        XCTAssertEqual(error.kind, kind, error.description, file: file, line: testLine)
        XCTAssertEqual(error.line, line, error.description, file: file, line: testLine)
        XCTAssertEqual(error.column, column, error.description, file: file, line: testLine)
        XCTAssertTrue(error.description.contains(fragment), "\(error.description) lacks \(fragment)", file: file, line: testLine)
        XCTAssertTrue(error.description.contains("line \(line), column \(column)"), error.description, file: file, line: testLine)
    }

    // MARK: SmolLM2 golden conversations

    func testSmolLM2ConversationsRenderAndTokenizeExactly() throws {
        let conversations = try SmolLM2Fixture.conversations.get()
        XCTAssertEqual(conversations.map(\.name), ["system+user", "user-only", "user+assistant+user"])
        XCTAssertEqual(conversations.map(\.inputIDs.count), [32, 38, 68])
        let template = try ChatTemplate(source: try SmolLM2Fixture.chatTemplateSource())
        let tokenizer = try SmolLM2Fixture.tokenizer.get()
        for conversation in conversations {
            let text = try template.render(
                messages: conversation.messages, addGenerationPrompt: conversation.addGenerationPrompt,
                bosToken: "<|im_start|>", eosToken: "<|im_end|>")
            XCTAssertEqual(utf8Bytes(text), utf8Bytes(conversation.text), "\(conversation.name): \(text.debugDescription)")
            XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: false, truncation: nil), conversation.inputIDs, conversation.name)
            XCTAssertEqual(
                try tokenizer.applyChatTemplate(conversation.messages, addGenerationPrompt: conversation.addGenerationPrompt),
                conversation.inputIDs, conversation.name)
        }
        // Without the generation prompt the text ends after the last message.
        let last = try XCTUnwrap(conversations.last)
        let withoutPrompt = try template.render(messages: last.messages, addGenerationPrompt: false)
        XCTAssertEqual(withoutPrompt + "<|im_start|>assistant\n", last.text)
    }

    // MARK: Other models' styles

    func testLlama3StyleTemplate() throws {
        let source = #"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"#
        let messages = [ChatMessage(role: "system", content: "You are helpful."), ChatMessage(role: "user", content: "  Hi there \n")]
        XCTAssertEqual(
            try render(source, messages, bos: "<|begin_of_text|>"),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n")
        XCTAssertEqual(
            try render(source, [user], generationPrompt: false, bos: "<|begin_of_text|>"),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>")
    }

    func testChatMLStyleTemplateWithWhitespaceControl() throws {
        let source = #"""
        {%- for message in messages %}
            {%- if loop.first and message.role != 'system' %}
                {{- '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}
            {%- endif %}
            {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- '<|im_start|>assistant\n' }}
        {%- endif %}

        """#
        XCTAssertEqual(
            try render(source, [user]),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(
            try render(source, [ChatMessage(role: "system", content: "Be brief."), user], generationPrompt: false),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n")
    }

    func testTrimAndLeftStripBlocksAsTransformersRendersThem() throws {
        let source = """
        {% for message in messages %}
          {% if message.role == 'user' %}
        User: {{ message.content }}
          {% else %}
        Bot: {{ message.content }}
          {% endif %}
        {% endfor %}
        {# a comment on its own line #}
        {%+ if true %}  kept{% endif +%}
        end

        """
        XCTAssertEqual(
            try render(source, [user, ChatMessage(role: "assistant", content: "Hi!")]),
            "User: Hello\nBot: Hi!\n  kept\nend")
    }

    func testMistralStyleTemplateAndRaiseException() throws {
        let source = #"{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"#
        XCTAssertEqual(
            try render(source, [user, ChatMessage(role: "assistant", content: "Hi"), ChatMessage(role: "user", content: "Bye")]),
            "<s>[INST] Hello [/INST]Hi</s>[INST] Bye [/INST]")
        let error = templateError { try self.render(source, [self.user, self.user]) }
        assertError(error, .raised, line: 1, column: 110, "Conversation roles must alternate")
        XCTAssertEqual(error?.message, "Conversation roles must alternate user/assistant/user/assistant/...")
    }

    func testQwen2StyleTemplateWithNamespaceAndToolBranches() throws {
        let source = #"""
        {%- if tools %}
            {{- '<|im_start|>system\n' }}{{- tools | tojson }}
        {%- else %}
            {%- if messages[0]['role'] == 'system' %}
                {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
            {%- else %}
                {{- '<|im_start|>system\nYou are Qwen.<|im_end|>\n' }}
            {%- endif %}
        {%- endif %}
        {%- set ns = namespace(users=0) %}
        {%- for message in messages %}
            {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
                {%- if message.role == "user" %}{% set ns.users = ns.users + 1 %}{% endif %}
                {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
            {%- elif message.role == "tool" %}
                {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
                    {{- '<|im_start|>user' }}
                {%- endif %}
            {%- endif %}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- '<|im_start|>assistant\n' }}
        {%- endif %}
        {{- ns.users }}
        """#
        XCTAssertEqual(
            try render(source, [user, ChatMessage(role: "assistant", content: "Hi"), user]),
            "<|im_start|>system\nYou are Qwen.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi<|im_end|>\n"
                + "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n2")
    }

    // MARK: The subset

    func testExpressionsFiltersTestsAndMethods() throws {
        let messages = [ChatMessage(role: "system", content: "  Sys  "), user, ChatMessage(role: "assistant", content: "Héllo \"quoted\"\n")]
        func check(_ source: String, _ expected: String, line: UInt = #line) {
            XCTAssertEqual(try render(source, messages), expected, source, line: line)
        }
        check("{{ messages | length }}|{{ messages[1:] | length }}|{{ messages[-1].role }}|{{ messages[::-1][0].role }}", "3|2|assistant|assistant")
        check("{{ messages[0].content.strip() }}|{{ messages[0]['content'] | trim | upper }}|{{ 'AbC' | lower }}", "Sys|SYS|abc")
        check("{{ messages[2].content | tojson }}", #""Héllo \"quoted\"\n""#)
        check("{{ {'a': [1, 2.5, none, true], 'b': 'x'} | tojson }}", #"{"a": [1, 2.5, null, true], "b": "x"}"#)
        check("{{ [1, 2] | tojson(indent=2) }}", "[\n  1,\n  2\n]")
        check("{{ 'x' ~ 1 ~ none }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 7 / 2 }}|{{ 2 ** 10 }}|{{ 1 + 2 * 3 }}", "x1None|3|-4|2|3.5|1024|7")
        check("{{ 'a' if false else 'b' }}{{ 'c' if true }}{{ 'd' if false }}", "bc")
        check("{{ undefined_name }}|{{ undefined_name is defined }}|{{ messages is defined }}|{{ none is none }}|{{ 3 is odd }}", "|False|True|True|True")
        check("{{ 'ell' in 'Hello' }}|{{ 'user' in messages | map(attribute='role') | list }}|{{ 'x' not in ['y'] }}", "True|True|True")
        check("{{ messages | selectattr('role', 'equalto', 'user') | list | length }}|{{ messages | map(attribute='role') | join(', ') }}", "1|system, user, assistant")
        check("{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'bc')) }}", "['a', 'b', '', 'c']|['a', 'b']|True|True")
        check("{% for m in messages %}{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}", "1/3,2/3,3/3")
        check("{% for m in messages if m.role != 'system' %}{{ loop.index0 }}{{ m.role }}{% else %}none{% endfor %}", "0user1assistant")
        check("{% for m in [] %}x{% else %}empty{% endfor %}", "empty")
        check("{% for i in range(10) %}{% if i == 3 %}{% break %}{% endif %}{% if i is even %}{% continue %}{% endif %}{{ i }}{% endfor %}", "1")
        check("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;")
        check("{% set ns = namespace(found=false) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}", "True")
        check("{% set x = 1 %}{% for m in messages %}{% set x = 2 %}{% endfor %}{{ x }}", "1")
        check("{% set greeting %}Hi {{ messages[1].content }}{% endset %}{{ greeting | upper }}", "HI HELLO")
        check("{{ messages[5] is defined }}|{{ (messages | first).role }}|{{ (messages | last).content[:1] }}", "False|system|H")
        check("{{ \"it's\" }}|{{ 'tab\\there' }}|{{ 'a' 'b' }}|{{ '\\u00e9' }}", "it's|tab\there|ab|é")
        check("{{ 1 < 2 < 3 }}|{{ 3 > 2 > 2 }}|{{ 'b' >= 'a' }}|{{ [1, 2] == [1, 2] }}|{{ 1 == 1.0 }}", "True|False|True|True|True")
        check("{{ 'hello world' | title }}|{{ 'hello' | capitalize }}|{{ '%s' | replace('%s', 'x') }}|{{ [3, 1, 2] | sort | list }}", "Hello World|Hello|x|[1, 2, 3]")
        check("{{ none | default('d') }}|{{ missing | default('d') }}|{{ '' | default('e', true) }}", "None|d|e")
    }

    // MARK: Errors

    func testUnclosedTagsAndBlocksGivePositions() {
        assertError(templateError { try ChatTemplate(source: "Hello {{ name") }, .syntax, line: 1, column: 7, "not closed with '}}'")
        assertError(templateError { try ChatTemplate(source: "ab\n  {% if x %}yes") }, .syntax, line: 2, column: 3, "'{% endif %}'")
        assertError(templateError { try ChatTemplate(source: "{% for m in messages %}{{ m }}") }, .syntax, line: 1, column: 1, "endfor")
        assertError(templateError { try ChatTemplate(source: "{# comment") }, .syntax, line: 1, column: 1, "comment")
        assertError(templateError { try ChatTemplate(source: "x\n{{ 'abc }}") }, .syntax, line: 2, column: 4, "string")
        assertError(templateError { try ChatTemplate(source: "{% endif %}") }, .syntax, line: 1, column: 1, "unexpected '{% endif %}'")
        assertError(templateError { try ChatTemplate(source: "{{ (1 + 2 }}") }, .syntax, line: 1, column: 11, "unexpected '}'")
        assertError(templateError { try ChatTemplate(source: "{% break %}") }, .syntax, line: 1, column: 1, "outside a loop")
        assertError(templateError { try ChatTemplate(source: "ok\n\n  {{ }}") }, .syntax, line: 3, column: 6, "unexpected end of tag")
        assertError(templateError { try ChatTemplate(source: "{% if x %}a{% else %}b{% elif y %}c{% endif %}") }, .syntax, line: 1, column: 23, "unexpected '{% elif %}'")
    }

    func testUnsupportedConstructsAreNamed() {
        assertError(templateError { try ChatTemplate(source: "{{ x | frobnicate }}") }, .unsupported, line: 1, column: 8, "unknown filter 'frobnicate'")
        assertError(
            templateError { try ChatTemplate(source: "line one\n{% for m in messages %}\n{{ m.content | nope }}\n{% endfor %}") },
            .unsupported, line: 3, column: 16, "unknown filter 'nope'")
        assertError(templateError { try ChatTemplate(source: "{{ x is frob }}") }, .unsupported, line: 1, column: 9, "unknown test 'frob'")
        assertError(templateError { try ChatTemplate(source: "a\n{% include 'other.jinja' %}") }, .unsupported, line: 2, column: 1, "include")
        assertError(templateError { try ChatTemplate(source: "{% macro f() %}{% endmacro %}") }, .unsupported, line: 1, column: 1, "macro")
        assertError(templateError { try self.render("{{ strftime_now('%Y') }}", []) }, .unsupported, line: 1, column: 4, "unknown function 'strftime_now'")
        assertError(templateError { try self.render("{{ messages.append(1) }}", []) }, .unsupported, line: 1, column: 12, "append")
        // A template that only mentions an unknown function in a branch it does not take renders.
        XCTAssertEqual(try render("{% if strftime_now is defined %}{{ strftime_now('%d') }}{% else %}no clock{% endif %}", []), "no clock")
    }

    func testEvaluationErrorsAndRaiseException() {
        assertError(templateError { try self.render("\n  {{ raise_exception('bad role: ' + messages[0].role) }}", [self.user]) },
                    .raised, line: 2, column: 6, "bad role: user")
        assertError(templateError { try self.render("{{ 'a' + 1 }}", []) }, .evaluation, line: 1, column: 8, "'str' and 'int'")
        assertError(templateError { try self.render("{{ nothing.role }}", []) }, .evaluation, line: 1, column: 11, "'nothing' is undefined")
        assertError(templateError { try self.render("{{ 1 // 0 }}", []) }, .evaluation, line: 1, column: 6, "division by zero")
        assertError(templateError { try self.render("{% set a, b = [1] %}", []) }, .evaluation, line: 1, column: 1, "unpack")
    }

    func testLimitsBoundOutputLoopsAndNesting() {
        let limits = ChatTemplate.Limits(maximumOutputBytes: 10_000, maximumLoopIterations: 500, maximumNestingDepth: 16)
        assertError(
            templateError { try ChatTemplate(source: "{% for i in range(100) %}{{ 'x' * 200 }}{% endfor %}", limits: limits).render(messages: [], addGenerationPrompt: false) },
            .limitExceeded, line: 1, column: 26, "10000 bytes")
        assertError(
            templateError { try ChatTemplate(source: "{{ 'x' * 20000 }}", limits: limits).render(messages: [], addGenerationPrompt: false) },
            .limitExceeded, line: 1, column: 8, "10000 bytes")
        assertError(
            templateError { try ChatTemplate(source: "{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}", limits: limits).render(messages: [], addGenerationPrompt: false) },
            .limitExceeded, line: 1, column: 26, "500 iterations")
        assertError(
            templateError { try ChatTemplate(source: "{{ range(1000000000) }}").render(messages: [], addGenerationPrompt: false) },
            .limitExceeded, line: 1, column: 4, "range")
        // Each parenthesis nests two levels (the expression and its operand), so the 17th level is the 8th "(".
        let deep = String(repeating: "(", count: 20) + "1" + String(repeating: ")", count: 20)
        assertError(templateError { try ChatTemplate(source: "{{ \(deep) }}", limits: limits) }, .limitExceeded, line: 1, column: 12, "nest")
        // The default limits allow ordinary templates.
        XCTAssertEqual(try render("{{ \(deep) }}", []), "1")
    }
}
