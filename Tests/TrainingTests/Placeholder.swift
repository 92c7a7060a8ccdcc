import XCTest
final class TrainingPlaceholderTests: XCTestCase { func testBuilds() {} }
