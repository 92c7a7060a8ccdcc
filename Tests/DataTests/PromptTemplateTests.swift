import Data
import XCTest

final class PromptTemplateTests: XCTestCase {
    func testPlaceholdersAreFilledIn() throws {
        let template = try PromptTemplate("Please answer the following question.\nQ: {instruction}\nA: ")
        XCTAssertEqual(template.placeholders, ["instruction"])
        XCTAssertEqual(try template.render(["instruction": "Why?"]), "Please answer the following question.\nQ: Why?\nA: ")

        let repeated = try PromptTemplate("{a}-{b}-{a}")
        XCTAssertEqual(repeated.placeholders, ["a", "b"])
        XCTAssertEqual(try repeated.render(["a": "1", "b": "2", "unused": "3"]), "1-2-1")
    }

    func testDoubledBracesAreLiteral() throws {
        let template = try PromptTemplate("{{\"q\": \"{question}\"}} }}{{")
        XCTAssertEqual(template.placeholders, ["question"])
        XCTAssertEqual(try template.render(["question": "x"]), "{\"q\": \"x\"} }{")
        XCTAssertEqual(try PromptTemplate("no placeholders").render([:]), "no placeholders")
        XCTAssertEqual(try PromptTemplate("{ spaced name }").placeholders, [" spaced name "])
    }

    func testMalformedTemplatesAreRejectedNamingTheTemplate() {
        let cases: [(String, PromptTemplateError.Kind, String)] = [
            ("Q: {instruction\nA:", .unclosedPlaceholder(offset: 3), "never closed"),
            ("Q: {}", .emptyPlaceholder(offset: 3), "names no column"),
            ("Q: } A:", .unmatchedClosingBrace(offset: 3), "closes no placeholder"),
            ("Q: {a{b}}", .braceInPlaceholder(offset: 5), "inside a placeholder"),
        ]
        for (source, kind, fragment) in cases {
            XCTAssertThrowsError(try PromptTemplate(source), source) { error in
                let error = error as! PromptTemplateError
                XCTAssertEqual(error.kind, kind, source)
                XCTAssertEqual(error.template, source)
                XCTAssertTrue(error.description.contains(source.debugDescription), error.description)
                XCTAssertTrue(error.description.contains(fragment), error.description)
            }
        }
    }

    func testAValueMissingWhenRenderingNamesThePlaceholder() throws {
        let template = try PromptTemplate("Q: {question}\nContext: {context}\nA:")
        XCTAssertThrowsError(try template.render(["question": "q"])) { error in
            let error = error as! PromptTemplateError
            XCTAssertEqual(error.kind, .unknownPlaceholder("context"))
            XCTAssertTrue(error.description.contains("{context}"), error.description)
            XCTAssertTrue(error.description.contains("Q: {question}"), error.description)
        }
    }
}
