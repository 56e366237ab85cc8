import AilabTestSupport
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
        /// Other control lines, such as "Breaks: x (<< 2)".
        var relations: String? = nil
        var held = false
    }

    init(_ packages: [Package], protectKernels: Bool = true) throws {
        scratch = try Scratch()
        for folder in [
            "etc/parts", "etc/sourceparts", "etc/prefparts", "state/lists/partial", "cache/archives/partial", "log",
            "admin/updates", "admin/info",
        ] {
            try FileManager.default.createDirectory(atPath: scratch.file(folder), withIntermediateDirectories: true)
        }
        try scratch.write("admin/available", "")
        let root = scratch.path
        try scratch.write(
            "apt.conf",
            """
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
        try scratch.write(
            "etc/parts/01autoremove",
            """
            APT::NeverAutoRemove { "^linux-image-[a-z0-9]*$"; "^linux-image-[a-z0-9]*-[a-z0-9]*$"; };
            APT::VersionedKernelPackages { "linux-.*"; ".*-modules"; ".*-kernel"; };

            """)
        for package in packages {
            for file in ["list", "md5sums"] { try scratch.write("admin/info/\(package.name).\(file)", "") }
        }
        try scratch.write("dpkg-stub", "#!/bin/sh\necho \"$*\" >> \"\(dpkgCalls)\"\n", mode: 0o755)
        try scratch.write(
            "admin/status",
            packages.map { package in
                """
                Package: \(package.name)
                Status: \(package.held ? "hold" : "install") ok installed
                Priority: optional
                Section: kernel
                Maintainer: Test <test@example.org>
                Architecture: amd64
                Version: \(package.version)
                \(package.depends.map { "Depends: \($0)\n" } ?? "")\(package.relations.map { "\($0)\n" } ?? "")Description: \(package.name)

                """
            }.joined(separator: "\n"))
        try scratch.write(
            "state/extended_states",
            packages.filter(\.auto).map {
                "Package: \($0.name)\nArchitecture: amd64\nAuto-Installed: 1\n"
            }.joined(separator: "\n"))
    }

    /// From now on the dpkg stub also keeps the status file as dpkg would, roughly: an unpacked
    /// package takes the version its .deb's name says (`name_version_arch.deb`), and a removed or
    /// purged one leaves the file, so dpkg-query and apt see what the last run changed.
    func recordChanges() throws {
        try scratch.write(
            "dpkg-stub",
            """
            #!/bin/sh
            echo "$*" >> "\(dpkgCalls)"
            status="\(admin)/status"
            action=
            for argument in "$@"; do
              case "$argument" in
                --remove|--purge) action=remove; continue ;;
                --unpack|--install) action=unpack; continue ;;
                -*) continue ;;
              esac
              case "$action:$argument" in
                unpack:*.deb)
                  file=${argument##*/}; rest=${file#*_}
                  name=${file%%_*}; version=$(printf '%s' "${rest%%_*}" | sed 's/%3a/:/')
                  touch "\(admin)/info/$name.list" "\(admin)/info/$name.md5sums"
                  awk -v name="$name" -v version="$version" '
                    $0 == "Package: " name { mine = 1 }
                    $0 == "" { mine = 0 }
                    mine && /^Version: / { $0 = "Version: " version }
                    { print }' "$status" > "$status.new" && mv "$status.new" "$status" ;;
                remove:*)
                  name=${argument%%:*}
                  awk -v name="$name" 'BEGIN { RS = ""; ORS = "\\n\\n" } { split($0, lines, "\\n"); if (lines[1] != "Package: " name) print }' \\
                    "$status" > "$status.new" && mv "$status.new" "$status" ;;
              esac
            done

            """, mode: 0o755)
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

    /// The packages the dpkg stub was asked to unpack (their .deb file names).
    var unpackedByDpkg: [String] {
        ((try? String(contentsOfFile: dpkgCalls, encoding: .utf8)) ?? "").split(separator: "\n").flatMap { line -> [String] in
            guard line.contains("--unpack") else { return [] }
            return line.split(separator: " ").filter { $0.hasSuffix(".deb") }
                .map { String(($0.split(separator: "/").last ?? $0).split(separator: "_")[0]) }
        }
    }

    var dpkgWasCalledToChange: Bool { !removedByDpkg.isEmpty || !unpackedByDpkg.isEmpty }

    /// A local repository of tiny packages as this database's only source, and real `apt-get update` over it.
    func serve(_ packages: [Package]) throws {
        try serve(packages, as: "local", update: true)
    }

    /// A repository `name` beside the others; with `suite` its Release names it (and `label`).
    /// Without `update` the lists stay stale, as on a host whose last `apt-get update` is old.
    func serve(_ packages: [Package], as name: String, suite: String? = nil, label: String? = nil, update: Bool) throws {
        let repository = DebRepository(folder: scratch.file("repository-\(name)"), build: scratch.file("build"))
        for package in packages {
            try repository.add(.init(name: package.name, version: package.version, depends: package.depends, relations: package.relations))
        }
        try repository.index(suite: suite, label: label)
        try scratch.write("etc/sourceparts/\(name).list", "deb [trusted=yes] file:\(repository.folder) ./\n")
        if update { try self.update() }
    }

    /// Real `apt-get update` over this database's sources.
    func update() throws {
        let environment = ProcessInfo.processInfo.environment.merging(["APT_CONFIG": scratch.file("apt.conf")]) { _, new in new }
        let update = try Command.run("/usr/bin/apt-get", ["update"], environment: environment)
        guard update.code == 0 else { throw Failure("apt-get update: \(update.stdout)\(update.stderr)") }
    }

    static func kernels(_ versions: [String], unsigned: Set<String> = [], extra: [Package] = []) -> [Package] {
        let images = versions.map { version in
            Package(
                name: (unsigned.contains(version) ? "linux-image-unsigned-" : "linux-image-") + "\(version)-generic",
                version: version.replacingOccurrences(of: "6.8.0-", with: "6.8.0-") + ".1")
        }
        let newest = images.last?.name ?? ""
        return images + [
            Package(name: "linux-image-generic", version: "6.8.0.99", depends: newest),
            Package(name: "linux-generic", version: "6.8.0.99", depends: "linux-image-generic", auto: false),
        ] + extra
    }
}
