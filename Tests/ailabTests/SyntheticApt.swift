import Foundation

/// A private package database that the real apt-get and dpkg-query read through APT_CONFIG and
/// DPKG_ADMINDIR. dpkg itself is a stub that records its arguments, so `--execute` runs the real
/// apt-get without changing anything.
final class SyntheticApt: @unchecked Sendable {
    let scratch: Scratch
    var root: String { scratch.path }
    var admin: String { scratch.file("admin") }
    var dpkgCalls: String { scratch.file("dpkg.argv") }

    struct Package {
        var name: String
        var version: String
        var depends: String? = nil
        var auto = true
    }

    init(_ packages: [Package], protectKernels: Bool = true) throws {
        scratch = try Scratch()
        for folder in ["etc/parts", "etc/sourceparts", "etc/prefparts", "state/lists/partial", "cache/archives/partial", "log",
                       "admin/updates", "admin/info"] {
            try FileManager.default.createDirectory(atPath: scratch.file(folder), withIntermediateDirectories: true)
        }
        try scratch.write("admin/available", "")
        let root = scratch.path
        try scratch.write("apt.conf", """
            Dir::Etc::main "/dev/null";
            Dir::Etc::parts "\(root)/etc/parts";
            Dir::Etc::sourcelist "/dev/null";
            Dir::Etc::sourceparts "\(root)/etc/sourceparts";
            Dir::Etc::preferences "/dev/null";
            Dir::Etc::preferencesparts "\(root)/etc/prefparts";
            Dir::State "\(root)/state";
            Dir::State::status "\(root)/admin/status";
            Dir::State::extended_states "\(root)/state/extended_states";
            Dir::State::Lists "\(root)/state/lists";
            Dir::Cache "\(root)/cache";
            Dir::Cache::pkgcache "";
            Dir::Cache::srcpkgcache "";
            Dir::Log "\(root)/log";
            Dir::Bin::dpkg "\(root)/dpkg-stub";
            APT::Architecture "amd64";
            APT::Protect-Kernels "\(protectKernels)";

            """)
        // What Debian and Ubuntu ship in /etc/apt/apt.conf.d/01autoremove: which packages are kernels.
        try scratch.write("etc/parts/01autoremove", """
            APT::NeverAutoRemove { "^linux-image-[a-z0-9]*$"; "^linux-image-[a-z0-9]*-[a-z0-9]*$"; };
            APT::VersionedKernelPackages { "linux-.*"; ".*-modules"; ".*-kernel"; };

            """)
        try scratch.write("dpkg-stub", "#!/bin/sh\necho \"$*\" >> \"\(dpkgCalls)\"\n", mode: 0o755)
        try scratch.write("admin/status", packages.map { package in
            """
            Package: \(package.name)
            Status: install ok installed
            Priority: optional
            Section: kernel
            Maintainer: Test <test@example.org>
            Architecture: amd64
            Version: \(package.version)
            \(package.depends.map { "Depends: \($0)\n" } ?? "")Description: \(package.name)

            """
        }.joined(separator: "\n"))
        try scratch.write("state/extended_states", packages.filter(\.auto).map {
            "Package: \($0.name)\nArchitecture: amd64\nAuto-Installed: 1\n"
        }.joined(separator: "\n"))
    }

    /// Environment for ailab: this database, this folder for logs and locks, uname ignored by APT.
    var environment: [String: String?] {
        var environment = scratch.environment
        environment["APT_CONFIG"] = scratch.file("apt.conf")
        environment["DPKG_ADMINDIR"] = admin
        environment["SOURCE_DATE_EPOCH"] = "0"
        return environment
    }

    /// The packages the dpkg stub was asked to remove or purge.
    var removedByDpkg: [String] {
        ((try? String(contentsOfFile: dpkgCalls, encoding: .utf8)) ?? "").split(separator: "\n").flatMap { line -> [String] in
            let words = line.split(separator: " ").map(String.init)
            guard let index = words.firstIndex(where: { $0 == "--remove" || $0 == "--purge" }) else { return [] }
            return words[(index + 1)...].filter { !$0.hasPrefix("-") }.map { String($0.split(separator: ":")[0]) }
        }
    }

    var dpkgWasCalledToChange: Bool { !removedByDpkg.isEmpty }

    static func kernels(_ versions: [String], unsigned: Set<String> = [], extra: [Package] = []) -> [Package] {
        let images = versions.map { version in
            Package(name: (unsigned.contains(version) ? "linux-image-unsigned-" : "linux-image-") + "\(version)-generic",
                    version: version.replacingOccurrences(of: "6.8.0-", with: "6.8.0-") + ".1")
        }
        let newest = images.last?.name ?? ""
        return images + [
            Package(name: "linux-image-generic", version: "6.8.0.99", depends: newest),
            Package(name: "linux-generic", version: "6.8.0.99", depends: "linux-image-generic", auto: false),
        ] + extra
    }
}
