import XCTest
final class FormatsPlaceholderTests: XCTestCase { func testBuilds() {} }
