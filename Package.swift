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
                "AilabCore", "CAilabSpawn",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["link-order.txt"],
            swiftSettings: [.unsafeFlags(["-Xfrontend", "-function-sections"], .when(configuration: .release))],
            // The release link packs the code ailab runs side by side (link-order.txt, written by
            // benchmarks/link_order.py) and makes a position-dependent executable, which needs no
            // relocation of its data at start-up: healthcheck's peak resident memory goes from
            // 17.5 MB to 14.5 MB (docs/DEVELOPMENT.md has the figures and the trade-off).
            linkerSettings: [
                .unsafeFlags(
                    [
                        "-use-ld=lld", "-Xclang-linker", "-no-pie",
                        "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Sources/ailab/link-order.txt",
                        "-Xlinker", "--no-warn-symbol-ordering",
                    ], .when(configuration: .release))
            ]
        ),
        // What Swift cannot reach: fork and exec with PR_SET_PDEATHSIG, which posix_spawn cannot
        // set, and malloc's arena limit.
        .target(name: "CAilabSpawn"),
        // SQLite for ailab's history, from Debian's libsqlite3-dev. Its static library is linked,
        // so the binary gains no shared library; GRDB's module links libsqlite3.so instead.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        // SHA-256 for the archive's members as they stream past, from OpenSSL's libcrypto in
        // Debian's libssl-dev: its static library is linked too (about 26 kB of code).
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto"),
        .target(
            name: "AilabCore", dependencies: ["CAilabSpawn", "CSQLite", "CCrypto"],
            // Every function in a section of its own, so that the release link can place it (below).
            swiftSettings: [.unsafeFlags(["-Xfrontend", "-function-sections"], .when(configuration: .release))],
            linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libsqlite3.a", "-Xlinker", "-l:libcrypto.a"])]),
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
