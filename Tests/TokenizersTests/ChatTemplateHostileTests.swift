import Tokenizers
import XCTest

/// Templates found to crash the interpreter or exhaust memory (the chat-template fuzz target
/// replays them): each now renders or throws a `ChatTemplateError`, and ordinary uses of the same
/// features keep working.
final class ChatTemplateHostileTests: XCTestCase {
    private func render(_ source: String) throws -> String {
        try ChatTemplate(source: source).render(messages: [ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true)
    }

    /// The error `source` renders with, or nil (with a failure) when it renders.
    private func renderingError(_ source: String, line: UInt = #line) -> ChatTemplateError? {
        do {
            let output = try render(source)
            XCTFail("rendered \(output.utf8.count) bytes", line: line)
        } catch let error as ChatTemplateError {
            return error
        } catch {
            XCTFail("not a ChatTemplateError: \(error)", line: line)
        }
        return nil
    }

    /// `round` with the most negative precision took the magnitude of Int.min, which traps.
    func testRoundWithTheMostNegativePrecision() throws {
        XCTAssertEqual(try render("{{ 1.5|round(-9223372036854775807 - 1) }}"), "0.0")
        XCTAssertEqual(try render("{{ 1.25|round(1) }}"), "1.3")
    }

    /// `indent` built its padding before checking its size: a huge width asked for terabytes.
    func testIndentWidthIsBoundedBeforeThePaddingIsBuilt() throws {
        let error = renderingError("{{ 'a'|indent(99999999999999) }}")
        XCTAssertEqual(error?.kind, .limitExceeded)
        XCTAssertEqual(renderingError("{{ ('a\n' * 5000)|indent(1000, true) }}")?.kind, .limitExceeded)
        XCTAssertEqual(try render("{{ 'a\nb\n\nc'|indent(2) }}"), "a\n  b\n\n  c")
    }

    /// A loop that wraps a stored value in a list each time built a value 100 000 levels deep,
    /// whose release alone overflowed the stack.
    func testStoredValuesCannotNestWithoutBound() {
        let source = "{% set ns = namespace(a=1) %}{% for i in range(100000) %}{% set ns.a = [ns.a] %}{% endfor %}{{ ns.a|length }}"
        XCTAssertEqual(renderingError(source)?.kind, .limitExceeded)
        XCTAssertEqual(try render("{% set ns = namespace(a=1) %}{% for i in range(3) %}{% set ns.a = [ns.a] %}{% endfor %}{{ ns.a }}"),
                       "[[[1]]]")
    }

    /// Doubling a stored list each time made a value of 2^60 items (shared, so cheap to build)
    /// whose printing would never end.
    func testStoredValuesCannotDoubleWithoutBound() {
        let source = "{% set ns = namespace(a='x') %}{% for i in range(60) %}{% set ns.a = [ns.a, ns.a] %}{% endfor %}{{ ns.a }}"
        XCTAssertEqual(renderingError(source)?.kind, .limitExceeded)
    }

    /// A namespace stored in itself made printing it recurse forever.
    func testNamespaceCannotHoldItself() throws {
        XCTAssertEqual(renderingError("{% set ns = namespace(a=1) %}{% set ns.a = ns %}{{ ns }}")?.kind, .limitExceeded)
        // The failed assignment leaves the attribute as it was.
        let source = "{% set ns = namespace(a=1) %}{% set ns.a = ns %}"
        XCTAssertThrowsError(try render(source))
        XCTAssertEqual(try render("{% set ns = namespace(a=1, b=[]) %}{% set ns.a = ns.a + 1 %}{% set ns.b = ns.b + [ns.a] %}{{ ns.a }} {{ ns.b }}"),
                       "2 [2]")
    }

    /// Printing or joining one large value shared by many list items stops at the output limit.
    func testPrintingASharedLargeValueStops() {
        let source = "{% set big = 'x' * 100000 %}{{ [big] * 100000 }}"
        XCTAssertEqual(renderingError(source)?.kind, .limitExceeded)
        // Joining them is counted before the text is built (it would take 10 GB).
        XCTAssertEqual(renderingError("{% set big = 'x' * 100000 %}{{ ([big] * 100000)|join }}")?.kind, .limitExceeded)
        XCTAssertEqual(try render("{{ ['a', 1, none]|join('-') }}"), "a-1-None")
    }
}
