import AilabTestSupport
import Foundation

/// A flat apt repository of tiny packages built by the test: dpkg-deb for each package,
/// dpkg-scanpackages for the index, and a Release file when the suite must carry a name and label.
final class DebRepository: @unchecked Sendable {
    let folder: String
    private let build: String

    struct Package {
        var name: String
        var version: String
        var depends: String? = nil
        /// Other control lines, such as "Breaks: x (<< 2)".
        var relations: String? = nil
        /// Path inside the package → (content, mode).
        var files: [String: (String, Int)] = [:]
        /// Maintainer scripts by name (postinst, prerm, …), run by /bin/sh.
        var scripts: [String: String] = [:]
    }

    init(folder: String, build: String) {
        self.folder = folder
        self.build = build
    }

    func add(_ package: Package) throws {
        let root = "\(build)/\(package.name)-\(package.version)"
        let control = """
            Package: \(package.name)
            Version: \(package.version)
            Architecture: amd64
            Maintainer: Test <test@example.org>
            \(package.depends.map { "Depends: \($0)\n" } ?? "")\(package.relations.map { "\($0)\n" } ?? "")Description: \(package.name)

            """
        let scripts = package.scripts.mapValues { ("#!/bin/sh\nset -e\n" + $0 + "\n", 0o755) }
        let entries =
            package.files.map { ("\(root)/\($0.key)", $0.value) }
            + [("\(root)/DEBIAN/control", (control, 0o644))] + scripts.map { ("\(root)/DEBIAN/\($0.key)", $0.value) }
        for (path, (text, mode)) in entries {
            try FileManager.default.createDirectory(
                atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            // chmod(2) itself: Foundation's setAttributes drops the setuid bit.
            guard chmod(path, mode_t(mode)) == 0 else { throw Failure("chmod \(path): errno \(errno)") }
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Command.check(
            "dpkg-deb",
            [
                "--root-owner-group", "-Zgzip", "--build", root,
                "\(folder)/\(package.name)_\(package.version)_amd64.deb",
            ])
    }

    /// Writes the Packages index; with `suite` also a Release naming it, with the index's hash.
    func index(suite: String? = nil, label: String? = nil) throws {
        let scan = try Command.run("/bin/sh", ["-c", "cd '\(folder)' && dpkg-scanpackages --multiversion . /dev/null"])
        guard scan.code == 0 else { throw Failure("dpkg-scanpackages: \(scan.stderr)") }
        try Data(scan.stdout.utf8).write(to: URL(fileURLWithPath: "\(folder)/Packages"))
        guard let suite else { return }
        let hash = try Command.check("sha256sum", ["\(folder)/Packages"]).prefix { $0 != " " }
        try Data(
            """
            Origin: Test
            Label: \(label ?? "Test")
            Suite: \(suite)
            Codename: \(suite)
            Date: Thu, 01 Jan 2026 00:00:00 UTC
            SHA256:
             \(hash) \(scan.stdout.utf8.count) Packages

            """.utf8
        ).write(to: URL(fileURLWithPath: "\(folder)/Release"))
    }
}
