// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ailab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ailab", targets: ["ailab"]),
        .library(name: "AilabCore", targets: ["AilabCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .executableTarget(
            name: "ailab",
            dependencies: [
                "AilabCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // fork and exec with PR_SET_PDEATHSIG, which posix_spawn cannot set.
        .target(name: "CAilabSpawn"),
        .target(name: "AilabCore", dependencies: ["CAilabSpawn"]),
        // Only the test targets use it: the one skip for tests that need root or a real tool, the
        // scratch folder, and the fake context that fails by default.
        .target(name: "AilabTestSupport", dependencies: ["AilabCore"], path: "Tests/AilabTestSupport"),
        .testTarget(
            name: "AilabCoreTests",
            dependencies: ["AilabCore", "AilabTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ailabTests",
            dependencies: ["ailab", "AilabCore", "AilabTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
