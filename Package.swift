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
        // The configuration file's YAML, with line numbers for its errors; libyaml is built in, statically.
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
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
        .target(name: "AilabCore", dependencies: ["CAilabSpawn", .product(name: "Yams", package: "Yams")]),
        .testTarget(
            name: "AilabCoreTests",
            dependencies: ["AilabCore"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ailabTests",
            dependencies: ["ailab", "AilabCore"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
