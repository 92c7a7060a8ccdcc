import XCTest
final class TensorsPlaceholderTests: XCTestCase { func testBuilds() {} }
