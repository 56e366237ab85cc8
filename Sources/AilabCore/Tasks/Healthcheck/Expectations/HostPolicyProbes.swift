import FoundationEssentials

/// What listens, how sshd is set, the inbound firewall and the clock: the host's policy as it stands.
extension ExpectationsSection {
    func listenerChecks(_ probe: SectionContext) -> Findings {
        var report = Findings()
        let sockets = ListeningSockets.read(probe.files).filter { !$0.isLoopback }
        report.set("listeners", sockets)
        guard let allowed = expect.listening else {
            report.add(
                "listening", .ok,
                sockets.isEmpty
                    ? "nothing listens beyond loopback"
                    : "beyond loopback: " + sockets.map(\.summary).joined(separator: ", "))
            return report
        }
        let unexpected = sockets.filter { socket in !allowed.contains { $0.port == socket.port && $0.proto == socket.proto } }
        report.measure("ailab_listeners_unexpected", "Sockets listening beyond loopback that are not declared.", Double(unexpected.count))
        if unexpected.isEmpty {
            report.add(
                "listening", .ok, "only declared ports listen beyond loopback: " + allowed.map(\.description).joined(separator: ", "))
        }
        for socket in unexpected {
            report.add(
                "listening \(socket.port)/\(socket.proto)", .warning, "unexpected listener: \(socket.summary)",
                next: "stop what listens, bind it to loopback, or add \(socket.port)/\(socket.proto) to expect.listening")
        }
        return report
    }

    /// The effective settings, from `sshd -T` (sshd must read its host keys: root only).
    func sshdChecks(_ probe: SectionContext) async throws -> Findings {
        var report = Findings()
        guard !expect.sshd.isEmpty else { return report }
        guard probe.has("sshd") else {
            for setting in expect.sshd { report.add("sshd \(setting.key)", .absent, "sshd is not installed") }
            return report
        }
        guard probe.isRoot else {
            for setting in expect.sshd { report.checks.append(.needsRoot("sshd \(setting.key)")) }
            return report
        }
        let result = try await probe.call("sshd", ["-T"] + (expect.sshdConfig.map { ["-f", $0] } ?? []))
        guard result.succeeded else {
            // One cause, one line: sshd could not print its settings, so none of them is judged.
            report.add(
                "sshd", .failed, "sshd -T: \(result.message ?? result.termination.description)",
                next: "fix the configuration sshd reports (sudo sshd -t), then run the healthcheck again")
            return report
        }
        var effective: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 1).map(String.init)
            if words.count == 2, effective[words[0]] == nil { effective[words[0]] = words[1] }
        }
        // sshd -T prints the older spelling of prohibit-password.
        func normal(_ value: String?) -> String? { value?.lowercased().replacing("without-password", with: "prohibit-password") }
        for setting in expect.sshd {
            let actual = effective[setting.key]
            let same = normal(actual) == normal(setting.value)
            report.add(
                "sshd \(setting.key)", same ? .ok : .failed, same ? setting.value : "is \(actual ?? "not set"), expected \(setting.value)",
                next: "set \(setting.key) \(setting.value) in /etc/ssh/sshd_config (or a drop-in), check with sudo sshd -t, reload ssh")
        }
        return report
    }

    func firewallChecks(_ probe: SectionContext) async throws -> Findings {
        var report = Findings()
        guard let tool = ["nft", "iptables"].first(where: probe.has) else {
            report.add(
                "firewall", expect.firewall ? .failed : .absent, "neither nft nor iptables is installed",
                next: "install and configure a firewall (sudo apt-get install nftables), or drop expect.firewall")
            return report
        }
        // Both read the kernel's rules over netlink or a raw socket, which needs CAP_NET_ADMIN.
        if let skipped = probe.capabilities.missing(.netAdmin, check: "firewall", tool: tool, isRoot: probe.isRoot) {
            report.checks.append(skipped)
            return report
        }
        let arguments = tool == "nft" ? ["list", "ruleset"] : ["-S"]
        let result = try await probe.call(tool, arguments)
        guard result.succeeded else {
            return Self.unreadable(([tool] + arguments).joined(separator: " "), result, expected: expect.firewall, probe)
        }
        let filter = tool == "nft" ? FirewallRules.parseNft(result.stdout) : FirewallRules.parseIptables(result.stdout)
        let detail = "\(filter.tool): inbound policy \(filter.policy ?? "none (no input chain)"), \(filter.rules) rule(s)"
        report.add(
            "firewall", expect.firewall && filter.acceptsEverything ? .failed : .ok,
            detail + (expect.firewall && filter.acceptsEverything ? "; the input path accepts everything" : ""),
            next: "restore the host's firewall rules (sudo nft list ruleset shows what is loaded)")
        report.set("firewall", filter)
        return report
    }

    static func unreadable(_ command: String, _ result: InvocationResult, expected: Bool, _ probe: SectionContext) -> Findings {
        var report = Findings()
        if !probe.isRoot {
            report.checks.append(.needsRoot("firewall"))
        } else {
            report.add(
                "firewall", expected ? .failed : .warning, "\(command): \(result.message ?? result.termination.description)",
                next: "run sudo \(command) by hand to see its error")
        }
        return report
    }

    /// Always checked: `timedatectl`, or `chronyc` where systemd-timesyncd is not in use.
    func timeSync(_ probe: SectionContext) async throws -> Findings {
        var report = Findings()
        var synchronised: Bool?
        var source = ""
        if probe.has("timedatectl") {
            let result = try await probe.call("timedatectl", ["show", "-p", "NTPSynchronized", "--value"])
            if result.succeeded {
                synchronised = result.stdout.trimmed() == "yes"
                source = "timedatectl"
            }
        }
        if synchronised == nil, probe.has("chronyc") {
            let result = try await probe.call("chronyc", ["-c", "tracking"])
            // The last field of the CSV is the leap status: "Normal" once synchronised.
            if result.succeeded {
                synchronised = result.stdout.trimmed().split(separator: ",").last == "Normal"
                source = "chronyc"
            }
        }
        guard let synchronised else {
            report.add("time sync", .absent, "neither timedatectl nor chronyc can tell")
            return report
        }
        report.add(
            "time sync", synchronised ? .ok : .warning, synchronised ? "synchronised (\(source))" : "not synchronised (\(source))",
            next: "check the time service: timedatectl timesync-status, or chronyc sources")
        report.measure("ailab_time_synchronized", "Whether the clock is synchronised (1) or not (0).", synchronised ? 1 : 0)
        return report
    }
}
