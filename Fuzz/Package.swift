// swift-tools-version:6.0
import PackageDescription

// Fuzz targets for every file parser of swift-finetune, one executable each, built with
// libFuzzer: `swift build -c release --sanitize=fuzzer --sanitize=address` (see
// ../scripts/fuzz.sh, which also runs them). Each executable defines only
// `LLVMFuzzerTestOneInput`; libFuzzer supplies `main`, so the sources are parsed as a library.

/// The root package's identity is the name of the folder it is checked out in.
let rootPackage = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init) ?? "swift-finetune"

/// Target name suffix → what it parses (the executable is `Fuzz<suffix>`).
let fuzzTargets = [
    "SafeTensors", "GGUF", "WordPieceTokenizer", "BytePairTokenizer", "EncoderConfig", "DecoderConfig",
    "AdapterConfig", "JSONLinesDataset", "CSVDataset", "PreferenceData", "ChatTemplate", "RunConfig", "TokenizerText",
]

let library = Target.Dependency.product(name: "FineTune", package: rootPackage)

let package = Package(
    name: "swift-finetune-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzSupport", dependencies: [library])
    ]
        + fuzzTargets.map { name in
            .executableTarget(
                name: "Fuzz\(name)",
                dependencies: ["FuzzSupport", library],
                swiftSettings: [.unsafeFlags(["-parse-as-library"])])
        }
)
