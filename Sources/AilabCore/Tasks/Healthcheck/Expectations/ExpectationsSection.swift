import FoundationEssentials

/// The host as its administrator declared it in the configuration file: services up, endpoints
/// answering, nothing unexpected listening, kernel settings, sshd, the firewall, the GPU count,
/// packages, files, mounts, modules, accounts, names, certificates and commands; and the clock
/// synchronised, which needs no declaration. Each expectation is one check, named
/// after its target; the probes run side by side within the healthcheck's timeout.
struct ExpectationsSection: HealthSection {
    let title = "expectations"
    let expect: Expectations

    func findings(from probe: SectionContext) async throws -> Findings {
        async let services = Self.part("services") { try await serviceChecks(probe) }
        async let endpoints = endpointChecks(probe)
        async let listeners = listenerChecks(probe)
        async let sshd = Self.part("sshd") { try await sshdChecks(probe) }
        async let firewall = Self.part("firewall") { try await firewallChecks(probe) }
        async let gpus = Self.part("gpus") { try await gpuChecks(probe) }
        async let time = Self.part("time sync") { try await timeSync(probe) }
        async let packages = Self.part("packages") { try await packageChecks(probe) }
        async let files = fileChecks(probe)
        async let accounts = Self.part("accounts") { try await accountChecks(probe) }
        async let names = nameChecks(probe)
        async let certificates = certificateChecks(probe)
        async let commands = commandChecks(probe)
        var findings = Findings()
        let declared = await [packages, files, mountChecks(probe), moduleChecks(probe), accounts, names, certificates, commands]
        for part in await [services, endpoints, listeners, sshd, firewall, gpus, time, sysctlChecks(probe)] + declared {
            findings.checks += part.checks
            findings.metrics += part.metrics
            findings.data.merge(part.data) { _, new in new }
        }
        // One sample per judged expectation, named as its check ("tcp 127.0.0.1:22" → kind tcp, target 127.0.0.1:22).
        for check in findings.checks
        where check.name != "time sync" && (check.status == .ok || check.status == .warning || check.status == .failed) {
            let kind = String(check.name.prefix { $0 != " " })
            let target = check.name.contains(" ") ? String(check.name.drop { $0 != " " }.dropFirst()) : kind
            findings.measure(
                "ailab_expectation_ok", "Whether a declared expectation holds (1) or not (0).",
                labels: ["kind": kind, "target": target], check.status == .ok ? 1 : 0)
        }
        return findings
    }

    /// One part that fails (a hung tool) is one failed check of its own, never the whole section.
    private static func part(_ name: String, _ body: () async throws -> Findings) async -> Findings {
        do {
            return try await body()
        } catch {
            var findings = Findings()
            findings.add(name, .failed, "\(error)", next: "run the command it names by hand; a hung tool shows there too")
            return findings
        }
    }

    private func serviceChecks(_ probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        guard !expect.services.isEmpty else { return findings }
        guard probe.has("systemctl") else {
            for unit in expect.services {
                findings.add(
                    "service \(unit)", .failed, "systemctl is not installed", next: "drop expect.services on a host without systemd")
            }
            return findings
        }
        let answer = try await probe.call("systemctl", ["is-active", "--"] + expect.services)
        // One cause, one line: without a running systemd no service can be judged.
        if ServicesSection.systemdIsDown(answer) {
            findings.add(
                "services", .absent, "systemd is not running here, so \(expect.services.count) declared service(s) cannot be checked")
            return findings
        }
        let states = answer.stdout.split(separator: "\n").map(String.init)
        for (position, unit) in expect.services.enumerated() {
            let state = position < states.count ? states[position] : "unknown"
            findings.add(
                "service \(unit)", state == "active" ? .ok : .failed, state,
                next: "read why: systemctl status \(unit), then sudo systemctl start \(unit)")
        }
        return findings
    }

    private func sysctlChecks(_ probe: SectionContext) -> Findings {
        var findings = Findings()
        for setting in expect.sysctl {
            let path = "/proc/sys/" + setting.key.replacing(".", with: "/")
            guard let value = probe.files.read(path)?.trimmed() else {
                findings.add(
                    "sysctl \(setting.key)", .warning, "no such setting (\(path))",
                    next: "check the key's spelling in expect.sysctl, or load the module that provides it")
                continue
            }
            let same = value.split(whereSeparator: \.isWhitespace) == setting.value.split(whereSeparator: \.isWhitespace)
            findings.add(
                "sysctl \(setting.key)", same ? .ok : .warning, same ? value : "is \(value), expected \(setting.value)",
                next: "set it in /etc/sysctl.d/ and apply it: sudo sysctl --system")
        }
        return findings
    }

    private func gpuChecks(_ probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        guard let wanted = expect.gpus else { return findings }
        guard probe.has("nvidia-smi") else {
            findings.add(
                "gpus \(wanted)", .failed, "expected \(wanted) GPU(s); nvidia-smi is not installed",
                next: "install the NVIDIA driver (sudo ubuntu-drivers install), then reboot")
            return findings
        }
        let result = try await probe.call("nvidia-smi", ["-L"])
        let count = result.succeeded ? NvidiaSMI.parseList(result.stdout).count : 0
        findings.add(
            "gpus \(wanted)", count >= wanted ? .ok : .failed,
            "\(count) GPU(s) answer, expected at least \(wanted)"
                + (result.succeeded ? "" : " (nvidia-smi -L: \(result.message ?? result.termination.description))"),
            next: "see the GPU section above for the missing GPU and its Xid")
        return findings
    }
}
