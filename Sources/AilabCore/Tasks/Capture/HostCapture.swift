import FoundationEssentials

/// What `ailab config --capture` takes from a running host, for an `expect:` section that passes
/// on the host it came from: the enabled services that are active, the listeners beyond loopback,
/// the mounts of real filesystems, the GPU stack's packages pinned to their major version, the
/// loaded nvidia modules, and the accounts that may log in. Each entry keeps why it was taken.
/// Nothing is read from a file's content but the host's own tables; no secret is taken.
package struct HostCapture: Sendable, Equatable {
    package struct Entry: Sendable, Equatable {
        package var value: String
        package var why: String
    }

    package struct PackageEntry: Sendable, Equatable {
        package var name: String
        package var glob: String
        package var why: String
    }

    /// A failure where the host cannot tell (no systemd, no dpkg, /etc/shadow unreadable), with the reason.
    package var services: Result<[Entry], Unknown>
    package var listening: [Entry]
    package var mounts: [Mount]
    package var packages: Result<[PackageEntry], Unknown>
    package var modules: [Entry]
    package var logins: Result<[Entry], Unknown>

    package struct Unknown: Error, Equatable {
        package let reason: String
    }

    /// The GPU stack: the driver's and CUDA's packages, and the running kernel's image.
    static let gpuPatterns = ["nvidia-*", "libnvidia-*", "cuda-*"]
    /// Filesystems without a device that still hold data: network and cluster filesystems.
    static let networkFilesystems: Set = [
        "nfs", "nfs4", "cifs", "smb3", "ceph", "glusterfs", "lustre", "beegfs", "gpfs", "fuse.sshfs", "fuse.glusterfs",
        "fuse.cephfs", "fuse.s3fs", "9p", "virtiofs",
    ]
    /// Options that name a server's or this client's address, which may change without the mount changing.
    static let addressOptions = ["addr=", "clientaddr=", "mountaddr="]

    package static func take(in context: TaskContext) async -> HostCapture {
        let files = context.files
        async let services = services(context)
        async let packages = packages(context)
        var listening: [Entry] = []
        var taken = Set<String>()
        for socket in ListeningSockets.read(files).filter({ !$0.isLoopback }).sorted(by: { ($0.proto, $0.port) < ($1.proto, $1.port) }) {
            let value = "\(socket.port)/\(socket.proto)"
            if taken.insert(value).inserted { listening.append(Entry(value: value, why: socket.summary)) }
        }
        let modules = files.list("/sys/module").filter {
            $0.hasPrefix("nvidia") && files.read("/sys/module/\($0)/initstate")?.trimmed() == "live"
        }
        return await HostCapture(
            services: services, listening: listening, mounts: realMounts(files), packages: packages,
            modules: modules.map { Entry(value: $0, why: "loaded now") }, logins: logins(context))
    }

    private static func ask(_ context: TaskContext, _ executable: String, _ arguments: [String]) async -> InvocationResult? {
        guard context.runner.locate(executable) != nil else { return nil }
        return try? await context.runner.run(Invocation(executable, arguments, timeout: .seconds(30)))
    }

    /// Active, and enabled (itself or, for an instance such as getty@tty1, its template): what
    /// comes back after a reboot. A unit started by hand or by a login is left out.
    private static func services(_ context: TaskContext) async -> Result<[Entry], Unknown> {
        async let active = ask(
            context, "systemctl", ["list-units", "--type=service", "--state=active", "--no-legend", "--plain", "--no-pager"])
        async let enabled = ask(
            context, "systemctl", ["list-unit-files", "--type=service", "--state=enabled", "--no-legend", "--no-pager"])
        guard let active = await active, active.succeeded, let enabled = await enabled, enabled.succeeded else {
            return .failure(Unknown(reason: "systemd is not running here, or systemctl cannot list units"))
        }
        let files = Set(enabled.stdout.split(whereSeparator: \.isNewline).compactMap { $0.split(separator: " ").first })
        return .success(
            active.stdout.split(whereSeparator: \.isNewline).compactMap { line in
                let words = line.split(separator: " ", omittingEmptySubsequences: true)
                guard words.count >= 4 else { return nil }
                let unit = words[0]
                let template = unit.contains("@") ? unit.prefix { $0 != "@" } + "@.service" : unit
                guard files.contains(unit) || files.contains(Substring(template)) else { return nil }
                return Entry(value: String(unit), why: "enabled, and \(words[3]) now")
            })
    }

    private static func packages(_ context: TaskContext) async -> Result<[PackageEntry], Unknown> {
        let kernel = context.runningKernel.map { ["linux-image-" + $0] } ?? []
        guard let result = await ask(context, "dpkg-query", ["-W", "-f", DpkgQuery.format, "--"] + gpuPatterns + kernel),
            case .exited(let code) = result.termination, code <= 1, let listed = try? DpkgQuery.parse(result.stdout)
        else {
            return .failure(Unknown(reason: "dpkg-query cannot list packages here"))
        }
        return .success(
            listed.filter(\.isInstalled).map {
                PackageEntry(name: $0.name, glob: majorGlob($0.version), why: "installed at \($0.version); pinned to its major version")
            })
    }

    /// `550.54.15-0ubuntu1` → `550.*`, `1:2.3-1` → `1:2.*`: the version up to its first separator.
    package static func majorGlob(_ version: String) -> String {
        let epoch = version.contains(":") ? String(version.prefix { $0 != ":" }) + ":" : ""
        let rest = version.dropFirst(epoch.count)
        let major = rest.prefix { $0.isNumber }
        guard !major.isEmpty, let separator = rest.dropFirst(major.count).first else { return version }
        return epoch + major + String(separator) + "*"
    }

    /// The visible mounts of filesystems that hold data: those on a device, and network ones.
    /// Snaps' images (squashfs) come and go with every refresh, and are left out.
    static func realMounts(_ files: HostFiles) -> [Mount] {
        let virtual = Set(
            (files.read("/proc/filesystems") ?? "").split(whereSeparator: \.isNewline).compactMap { line -> Substring? in
                let words = line.split(whereSeparator: \.isWhitespace)
                return words.count == 2 && words[0] == "nodev" ? words[1] : nil
            })
        let all = files.mounts
        let visible = MountInfo.visible(all)
        var seen = Set<String>()
        return all.compactMap { mount -> Mount? in
            guard visible[mount.path] == mount, seen.insert(mount.path).inserted else { return nil }
            let base = Substring(mount.fstype.prefix { $0 != "." })
            guard networkFilesystems.contains(mount.fstype) || !virtual.contains(base) && !virtual.contains(Substring(mount.fstype)),
                mount.fstype != "squashfs", !mount.path.hasPrefix("/snap/")
            else { return nil }
            var kept = mount
            kept.options = mount.options.filter { option in !addressOptions.contains { option.hasPrefix($0) } }
            return kept
        }
    }

    private static func logins(_ context: TaskContext) -> Result<[Entry], Unknown> {
        guard let shadow = context.files.read("/etc/shadow") else {
            return .failure(Unknown(reason: "reading /etc/shadow needs root"))
        }
        let shells = Account.shells(context.files.read("/etc/shells") ?? "")
        let today = Int(context.clock().timeIntervalSince1970 / 86400)
        return .success(
            Account.parse(passwd: context.files.read("/etc/passwd") ?? "", shadow: shadow)
                .filter { $0.canLogIn(shells: shells, day: today) }
                .map { Entry(value: $0.name, why: "shell \($0.shell), \($0.password.isEmpty ? "an empty password" : "a usable password")") }
        )
    }
}
