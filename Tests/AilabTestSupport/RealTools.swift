import Foundation
import Testing

/// A test's own failure, saying what went wrong.
package struct Failure: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// The one skip both test targets use: a test that needs root or a real tool is cancelled where
/// it is missing, and fails instead under AILAB_REQUIRE_REAL_TOOLS=1 (CI sets it).
package enum RealTools {
    package static var required: Bool { ProcessInfo.processInfo.environment["AILAB_REQUIRE_REAL_TOOLS"] == "1" }

    package static func require(_ tool: String, package: String) throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let folders = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        let found = folders.contains { FileManager.default.isExecutableFile(atPath: $0 + "/" + tool) }
        if !found { try missing("needs \(tool) (Debian package \(package))") }
    }

    package static func requireRoot() throws {
        if geteuid() != 0 { try missing("needs root (mounts, loop devices)") }
    }

    private static func missing(_ reason: String) throws {
        if required { throw Failure("AILAB_REQUIRE_REAL_TOOLS=1 but this test \(reason)") }
        try Test.cancel(Comment(rawValue: reason))
    }
}
