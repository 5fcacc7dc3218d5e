// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "Starling",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "starling", targets: ["starling"]),
        .library(name: "StarlingTensor", targets: ["StarlingTensor"]),
        .library(name: "StarlingData", targets: ["StarlingData"]),
        .library(name: "StarlingModels", targets: ["StarlingModels"]),
        .library(name: "StarlingEval", targets: ["StarlingEval"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(name: "StarlingTensor", dependencies: ["CBLAS"]),
        .target(name: "StarlingData", dependencies: ["StarlingTensor"]),
        .target(name: "StarlingModels", dependencies: ["StarlingTensor", "StarlingData"]),
        .target(name: "StarlingEval", dependencies: ["StarlingData", "StarlingModels"]),
        .executableTarget(
            name: "starling",
            dependencies: [
                "StarlingTensor", "StarlingData", "StarlingModels", "StarlingEval",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "StarlingTensorTests", dependencies: ["StarlingTensor"]),
        .testTarget(name: "StarlingDataTests", dependencies: ["StarlingData"]),
        .testTarget(name: "StarlingModelsTests", dependencies: ["StarlingModels", "StarlingEval"]),
        .testTarget(name: "StarlingEvalTests", dependencies: ["StarlingEval"]),
    ],
    swiftLanguageModes: [.v6]
)
