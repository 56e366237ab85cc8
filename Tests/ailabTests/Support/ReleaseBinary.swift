import AilabTestSupport
import Foundation

/// The release binary, built as install.sh builds it, in a build folder of its own.
enum ReleaseBinary {
    static let scratchPath = Repository.root + "/.build-release"
    private static let built: Result<String, Failure> = {
        let outcome = Result {
            try Command.run(
                "/usr/bin/env",
                [
                    "swift", "build", "-c", "release", "--static-swift-stdlib",
                    "--product", "ailab", "--package-path", Repository.root,
                    "--scratch-path", scratchPath,
                ])
        }
        switch outcome {
        case .success(let result) where result.code == 0: return .success(scratchPath + "/release/ailab")
        case .success(let result):
            return .failure(Failure("swift build -c release → \(result.code): \(result.stdout.suffix(3000))\(result.stderr)"))
        case .failure(let error): return .failure(Failure("swift build -c release: \(error)"))
        }
    }()

    static func path() throws -> String { try built.get() }
}
