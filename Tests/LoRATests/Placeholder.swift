import XCTest
final class LoRAPlaceholderTests: XCTestCase { func testBuilds() {} }
