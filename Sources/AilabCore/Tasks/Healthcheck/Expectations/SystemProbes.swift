#if canImport(Glibc)
    import Glibc
#endif

/// Declared packages (dpkg's database), mounts (init's mountinfo) and kernel modules (/sys/module).
extension ExpectationsSection {
    func packageChecks(_ probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        guard !expect.packages.isEmpty else { return findings }
        guard probe.has("dpkg-query") else {
            for pin in expect.packages { findings.add("package \(pin.name)", .failed, "dpkg-query is not installed") }
            return findings
        }
        let bases = expect.packages.map { String($0.name.prefix { $0 != ":" }) }
        // dpkg-query exits 1 when a name is unknown to it, and still lists the others.
        let result = try await probe.call("dpkg-query", ["-W", "-f", DpkgQuery.format, "--"] + bases)
        guard case .exited(let code) = result.termination, code <= 1, let listed = try? DpkgQuery.parse(result.stdout) else {
            findings.add(
                "packages", .failed, "dpkg-query: \(result.message ?? result.termination.description)", next: "run sudo dpkg --audit")
            return findings
        }
        for (pin, base) in zip(expect.packages, bases) {
            let versions = listed.filter { $0.name == base && $0.isInstalled }.map(\.version)
            let shown = versions.joined(separator: ", ")
            let (status, detail): (Status, String) =
                switch pin.wanted {
                case .installed: versions.isEmpty ? (.failed, "not installed") : (.ok, shown)
                case .absent: versions.isEmpty ? (.ok, "not installed") : (.failed, "installed (\(shown)), expected absent")
                case .version(let glob):
                    versions.contains { fnmatch(glob, $0, 0) == 0 }
                        ? (.ok, shown)
                        : (.failed, versions.isEmpty ? "not installed, expected \(glob)" : "is \(shown), expected \(glob)")
                }
            let next =
                pin.wanted == .absent
                ? "remove it (sudo apt-get purge \(pin.name)), or drop it from expect.packages"
                : "see the versions apt offers (apt-cache policy \(pin.name)), then sudo apt-get install \(pin.name)=VERSION"
            findings.add("package \(pin.name)", status, detail, next: next)
        }
        return findings
    }

    func mountChecks(_ probe: SectionContext) -> Findings {
        var findings = Findings()
        guard !expect.mounts.isEmpty else { return findings }
        let visible = MountInfo.visible(probe.files.mounts)
        for rule in expect.mounts {
            let point = rule.path.count > 1 && rule.path.hasSuffix("/") ? String(rule.path.dropLast()) : rule.path
            guard let mount = visible[point] else {
                findings.add(
                    "mount \(rule.path)", .failed, "not mounted",
                    next: "mount it (sudo mount \(point)), and check its line in /etc/fstab")
                continue
            }
            var wrong: [String] = []
            if let fstype = rule.fstype, fstype != mount.fstype { wrong.append("fstype is \(mount.fstype), expected \(fstype)") }
            if let source = rule.source, source != mount.source { wrong.append("source is \(mount.source), expected \(source)") }
            let missing = rule.options.filter { !mount.options.contains($0) }
            if !missing.isEmpty { wrong.append("lacks option(s) " + missing.joined(separator: ", ")) }
            findings.add(
                "mount \(rule.path)", wrong.isEmpty ? .ok : .failed,
                wrong.isEmpty ? "\(mount.fstype) from \(mount.source)" : wrong.joined(separator: "; "),
                next: "correct its line in /etc/fstab, then remount it (sudo umount \(point) && sudo mount \(point)) when nothing uses it")
        }
        return findings
    }

    /// A module is loaded when /sys/module has it live; one built into the kernel has no initstate.
    func moduleChecks(_ probe: SectionContext) -> Findings {
        var findings = Findings()
        for name in expect.kernelModules {
            let folder = "/sys/module/" + name.replacing("-", with: "_")
            let state = probe.files.read(folder + "/initstate")?.trimmed()
            let (status, detail): (Status, String) =
                if name.contains("/") {
                    (.failed, "not a module name")
                } else if state == "live" {
                    (.ok, "loaded")
                } else if state == nil && probe.files.exists(folder) {
                    (.ok, "built into the kernel")
                } else {
                    (.failed, state.map { "is \($0)" } ?? "not loaded")
                }
            findings.add(
                "module \(name)", status, detail,
                next: "load it (sudo modprobe \(name)); if it will not load, sudo dmesg shows why (a driver that does not match the kernel)"
            )
        }
        return findings
    }
}
