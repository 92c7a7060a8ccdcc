// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way:
// CKernels ◄ Tensors ◄ NN ◄ {Models, LoRA} ◄ Training ◄ Benchmarks ◄ finetune
// Formats and Tokenizers depend on Foundation only; Data depends on Tokenizers; Reporting (logs,
// TensorBoard event files, the HTML report) depends on Formats only.
let package = Package(
    name: "swift-finetune",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "finetune", targets: ["finetune"]),
        .library(name: "FineTune", targets: ["Tensors", "NN", "Formats", "Tokenizers", "Models", "LoRA", "Data", "Reporting", "Training"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3", "-ffp-contract=fast", "-fno-math-errno"])],
            linkerSettings: [
                .linkedLibrary("openblas", .when(platforms: [.linux])),
                .linkedFramework("Accelerate", .when(platforms: [.macOS])),
            ]
        ),
        .target(name: "Tensors", dependencies: ["CKernels"]),
        .target(name: "NN", dependencies: ["Tensors"]),
        .target(name: "Formats"),
        .target(name: "Tokenizers"),
        .target(name: "Models", dependencies: ["NN", "Formats"]),
        .target(name: "LoRA", dependencies: ["NN", "Formats", "Models"]),
        .target(name: "Data", dependencies: ["Tokenizers"]),
        .target(name: "Reporting", dependencies: ["Formats"]),
        .target(
            name: "Training",
            dependencies: ["Models", "LoRA", "Data", "Formats", "Tokenizers", "Reporting", .product(name: "Yams", package: "Yams")]
        ),
        // The reference benchmark's jobs (`finetune bench`), outside the library.
        .target(name: "Benchmarks", dependencies: ["Training", "Models", "LoRA", "Data"]),
        .executableTarget(
            name: "finetune",
            dependencies: [
                "Training", "Benchmarks", "Formats", "Reporting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "TestSupport", dependencies: ["Tensors", "Formats"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "NN", "TestSupport"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "TestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Formats", "Tokenizers", "TestSupport"]),
        .testTarget(name: "LoRATests", dependencies: ["LoRA", "Models", "Formats", "TestSupport"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "Tokenizers", "TestSupport"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting"], exclude: ["Golden"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Benchmarks", "Reporting", "TestSupport"], exclude: ["Golden"]),
        // Runs the built `finetune` executable.
        .testTarget(name: "CommandLineTests", dependencies: ["TestSupport"]),
    ]
)
