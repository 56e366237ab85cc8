import Foundation

/// The repository this test suite belongs to: its installer and its units.
enum Repository {
    /// This file is Tests/ailabTests/Support/Repository.swift.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let installer = root + "/install.sh"
    static let systemd = root + "/systemd"

    static var units: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: systemd)) ?? []).filter { $0.hasPrefix("ailab-") }.sorted()
    }
}
