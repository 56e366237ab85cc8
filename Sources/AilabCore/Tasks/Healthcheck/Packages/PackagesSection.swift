import FoundationEssentials

/// The package system: packages an interrupted dpkg left half-way (they block every later
/// install), upgrades waiting and how many are security fixes, held packages, unattended-upgrades,
/// what runs outdated code, and whether the newest kernel is the running one. It reads only: the
/// package lists are as the last `apt-get update` left them.
struct PackagesSection: HealthSection {
    let title = "packages"

    func findings(from probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        let query = AptCommands.packageStates
        guard probe.has(query.executable) else {
            findings.add("dpkg", .absent, "dpkg-query is not installed: not a Debian or Ubuntu host")
            return findings
        }
        let states = try await probe.call(query.executable, query.arguments)
        let interrupted = try InterruptedDpkg.packages(states)
        findings.add(InterruptedDpkg.check(interrupted))
        findings.set("interruptedPackages", interrupted)
        findings.measure(
            "ailab_dpkg_interrupted", "Whether an interrupted dpkg left packages half-way (1) or not (0).",
            interrupted.isEmpty ? 0 : 1)
        let packages = (try? DpkgQuery.parse(states.stdout)) ?? []

        let held = packages.filter { $0.status.hasPrefix("h") }.map(\.name)
        findings.add("held", .ok, held.isEmpty ? "no package is held" : "\(held.count) held: " + held.joined(separator: ", "))
        findings.set("heldPackages", held)
        findings.measure("ailab_packages_held", "Packages held at their version (apt-mark hold).", Double(held.count))

        // apt-get's simulation and needrestart's scan each take seconds on a big host: side by side.
        async let upgradesCall = probe.has("apt-get") ? upgrades(probe) : Findings()
        async let outdatedCall = outdatedCode(packages, probe)
        let (waiting, outdated) = try await (upgradesCall, outdatedCall)
        findings.merge(waiting)
        findings.add(unattendedUpgrades(packages, probe))
        findings.merge(outdated)
        return findings
    }

    /// `apt-get -s dist-upgrade` on the lists as they are; security fixes waiting a week warn.
    private func upgrades(_ probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        let simulation = try await probe.call("apt-get", AptCommands(lockTimeout: 0).simulateDistUpgrade.arguments)
        guard simulation.succeeded else {
            findings.add(
                "upgrades", .warning, "apt-get -s dist-upgrade: \(simulation.message ?? simulation.termination.description)",
                next: "run sudo apt-get -s dist-upgrade by hand to see apt's error")
            return findings
        }
        let upgrades = UpgradeSimulation.parse(simulation.stdout).upgrades
        let pockets = SecurityPockets.of(probe.run.context.files)
        let security = upgrades.filter { pockets?.contains($0) == true }
        findings.set("upgradable", upgrades)
        findings.measure(
            "ailab_packages_upgradable", "Upgrades the package lists offer, security fixes apart.", labels: ["security": "true"],
            Double(security.count))
        findings.measure(
            "ailab_packages_upgradable", "Upgrades the package lists offer, security fixes apart.", labels: ["security": "false"],
            Double(upgrades.count - security.count))
        let now = probe.run.now
        let records = probe.run.context.records
        var saved: String?
        // Only root keeps the record; another user's run judges what it can.
        if probe.isRoot {
            do {
                saved = try records.read(.securityBacklog)
            } catch {
                findings.add(
                    "security backlog", .warning, "\(error); the waiting times start again",
                    next: "check who changed ailab's state folder; the next run as root rewrites the record")
            }
        }
        let backlog = SecurityBacklog.update(pending: security, now: now, saved: saved)
        if probe.isRoot { try? records.write(.securityBacklog, backlog.text) }
        let detail = "\(upgrades.count) upgrade(s) pending, \(security.count) of them security fixes"
        if let oldest = backlog.oldest(now: now), oldest > SecurityBacklog.patience {
            findings.add(
                "upgrades", .warning, detail + "; the oldest security fix has waited \(HostFacts.duration(oldest))",
                next: "sudo ailab upgrade --security (or check why unattended-upgrades did not apply it)")
        } else {
            findings.add("upgrades", .ok, detail)
        }
        return findings
    }

    /// Installed, enabled in APT::Periodic, and when it last ran (its periodic stamp).
    private func unattendedUpgrades(_ packages: [InstalledPackage], _ probe: SectionContext) -> Check {
        guard packages.contains(where: { $0.name == "unattended-upgrades" && $0.isInstalled }) else {
            return Check("unattended-upgrades", .ok, "not installed: security fixes wait for an upgrade run")
        }
        let periodic = (try? probe.files.entries("/etc/apt/apt.conf.d") ?? []) ?? []
        let enabled = periodic.filter(\.isRegularFile).contains { entry in
            let text = probe.files.read("/etc/apt/apt.conf.d/" + entry.name) ?? ""
            return text.split(whereSeparator: \.isNewline).contains { line in
                line.contains("APT::Periodic::Unattended-Upgrade") && !line.trimmed(where: \.isBlank).hasPrefix("//")
                    && !line.contains("\"0\"")
            }
        }
        let stamp = (try? probe.files.entries("/var/lib/apt/periodic") ?? [])?
            .first { $0.name == "unattended-upgrades-stamp" }
        let last = stamp.map { "last ran \(HostFacts.duration(max(0, probe.run.now.timeIntervalSince($0.modified)))) ago" } ?? "never ran"
        return Check("unattended-upgrades", .ok, "installed, " + (enabled ? "enabled" : "disabled in APT::Periodic") + ", " + last)
    }

    /// Services and containers on deleted libraries (needrestart, as root), and the kernel: one
    /// line for a kernel that is not the newest installed, from needrestart or else from dpkg.
    private func outdatedCode(_ packages: [InstalledPackage], _ probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        var restart: NeedRestart?
        if probe.has("needrestart") && probe.isRoot {
            // needrestart reads every process's maps, which root may do only with CAP_SYS_PTRACE
            // (its own capabilities must cover the target's): without it, it finds nothing.
            if let skipped = probe.capabilities.missing(.sysPtrace, check: "outdated code", tool: "needrestart", isRoot: probe.isRoot) {
                findings.checks.append(skipped)
            } else {
                let result = try await probe.call("needrestart", ["-b"])
                let parsed = NeedRestart.parse(result.stdout)
                if result.succeeded && parsed.version != nil {
                    restart = parsed
                } else {
                    findings.add(
                        "outdated code", .warning,
                        "needrestart -b gave no batch report: \(result.message ?? result.termination.description)",
                        next: "run sudo needrestart -b by hand to see its error")
                }
            }
        }
        let running = probe.runningKernel
        let images = packages.filter { $0.isInstalled && PackageRules.kernelRelease(ofImage: $0.name) != nil }
        let newest = NextBootDriver.newestKernel(images)
        let outdated = PendingReboot.kernelOutdated(restart: restart, newest: newest, running: running)
        if let running {
            let known = restart != nil || newest != nil
            // One cause, one line: where the host already asks for a reboot, the host section's
            // warning says it, and this is the fact behind it.
            let asked = probe.files.exists("/run/reboot-required")
            findings.add(
                "kernel", outdated && !asked ? .warning : .ok,
                outdated
                    ? "running \(running), newest installed \(restart?.expectedKernel ?? newest ?? "?")"
                        + (asked ? " (the reboot the host section asks for)" : "")
                    : "running \(running)" + (known ? ", the newest installed" : " (no kernel package installed)"),
                next: "reboot into it when the host can be drained")
        }
        if let restart {
            let waiting = restart.services + restart.containers
            findings.add(
                "outdated code", waiting.isEmpty ? .ok : .warning,
                waiting.isEmpty
                    ? "no service or container runs outdated libraries"
                    : "\(waiting.count) to restart: " + waiting.joined(separator: ", "),
                next: RestartAdvice.next(services: restart.services, containers: restart.containers))
            findings.set("needRestart", restart)
            findings.measure(
                "ailab_services_need_restart", "Services and containers running outdated libraries (needrestart).",
                Double(waiting.count))
        }
        return findings
    }
}
