import XCTest
final class TokenizersPlaceholderTests: XCTestCase { func testBuilds() {} }
