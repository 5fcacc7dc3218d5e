// swift-tools-version:6.2
import Foundation
import PackageDescription

// Hot SIMD kernels (embedding gathers, Adam, exp/softmax) are 1.7× faster with AVX2 + FMA than on
// the baseline x86-64 target, where `SIMD16<Float>` is split into four SSE registers. Every x86-64
// server CPU since 2013 (Intel Haswell, AMD Excavator/Zen) has them. Set STARLING_PORTABLE=1 when
// building for an older CPU.
#if arch(x86_64)
let cpuFlags: [SwiftSetting] = ProcessInfo.processInfo.environment["STARLING_PORTABLE"] == nil
    ? [.unsafeFlags(["-target-cpu", "haswell"])] : []
#else
let cpuFlags: [SwiftSetting] = []
#endif

let package = Package(
    name: "Starling",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "starling", targets: ["starling"]),
        .library(name: "StarlingTensor", targets: ["StarlingTensor"]),
        .library(name: "StarlingData", targets: ["StarlingData"]),
        .library(name: "StarlingFeatures", targets: ["StarlingFeatures"]),
        .library(name: "StarlingModels", targets: ["StarlingModels"]),
        .library(name: "StarlingEval", targets: ["StarlingEval"]),
        .library(name: "StarlingIndex", targets: ["StarlingIndex"]),
        .library(name: "StarlingStream", targets: ["StarlingStream"]),
        .library(name: "StarlingRedis", targets: ["StarlingRedis"]),
        .library(name: "StarlingServe", targets: ["StarlingServe"]),
        .library(name: "StarlingHTTP", targets: ["StarlingHTTP"]),
        .library(name: "StarlingSimulation", targets: ["StarlingSimulation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(name: "CIntrinsics"),
        // hiredis's pkg-config file adds -D_FILE_OFFSET_BITS=64, which only earns a warning: the
        // module map names the library itself.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .target(name: "StarlingTensor", dependencies: ["CBLAS", "CIntrinsics"], swiftSettings: cpuFlags),
        .target(
            name: "StarlingData",
            dependencies: [
                "StarlingTensor",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: cpuFlags
        ),
        .target(name: "StarlingFeatures", dependencies: ["StarlingData", "StarlingTensor"]),
        .target(name: "StarlingModels", dependencies: ["StarlingTensor", "StarlingData", "StarlingFeatures"], swiftSettings: cpuFlags),
        .target(name: "StarlingEval", dependencies: ["StarlingData", "StarlingFeatures", "StarlingModels"], swiftSettings: cpuFlags),
        .target(name: "StarlingIndex", dependencies: ["StarlingTensor", "CIntrinsics"], swiftSettings: cpuFlags),
        .target(name: "StarlingStream", dependencies: ["StarlingData"], swiftSettings: cpuFlags),
        .target(name: "StarlingRedis", dependencies: ["CHiredis", "StarlingStream", "StarlingData"]),
        .target(
            name: "StarlingServe",
            dependencies: [
                "StarlingModels", "StarlingTensor", "StarlingIndex", "StarlingStream", "StarlingData", "StarlingEval",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: cpuFlags
        ),
        .target(
            name: "StarlingHTTP",
            dependencies: [
                "StarlingServe", "StarlingStream", "StarlingData",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(name: "StarlingLoopbackClient"),
        .target(name: "StarlingSimulation", dependencies: ["StarlingTensor"], swiftSettings: cpuFlags),
        .executableTarget(
            name: "starling",
            dependencies: [
                "StarlingTensor", "StarlingData", "StarlingFeatures", "StarlingModels", "StarlingEval", "StarlingIndex", "StarlingStream",
                "StarlingServe", "StarlingHTTP", "StarlingLoopbackClient", "StarlingSimulation", "StarlingRedis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: cpuFlags
        ),
        .testTarget(name: "StarlingTensorTests", dependencies: ["StarlingTensor"]),
        .testTarget(
            name: "StarlingDataTests",
            dependencies: ["StarlingData", .product(name: "ZIPFoundation", package: "ZIPFoundation")]
        ),
        .target(name: "StarlingTestSupport", path: "Tests/StarlingTestSupport"),
        .testTarget(name: "StarlingModelsTests", dependencies: ["StarlingModels", "StarlingFeatures", "StarlingEval", "StarlingTensor",
                                                         "StarlingData", "StarlingTestSupport"]),
        .testTarget(name: "StarlingEvalTests", dependencies: ["StarlingEval", "StarlingTensor"]),
        .testTarget(name: "StarlingServeTests", dependencies: ["StarlingServe", "StarlingModels", "StarlingData", "StarlingStream", "StarlingTensor"]),
        .testTarget(name: "StarlingHTTPTests", dependencies: ["StarlingHTTP", "StarlingServe", "StarlingLoopbackClient", "StarlingModels", "StarlingData",
                                                       "StarlingStream", "StarlingTensor", "StarlingTestSupport"]),
        .testTarget(name: "StarlingStreamTests", dependencies: ["StarlingStream", "StarlingData", "StarlingTestSupport"]),
        .testTarget(name: "StarlingRedisTests", dependencies: ["StarlingRedis", "StarlingStream", "StarlingData", "StarlingTensor",
                                                        "StarlingLoopbackClient", "StarlingTestSupport"]),
        .testTarget(name: "StarlingIndexTests", dependencies: ["StarlingIndex", "StarlingModels", "StarlingData", "CIntrinsics"]),
        .testTarget(name: "StarlingSimulationTests", dependencies: ["StarlingSimulation", "StarlingTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
