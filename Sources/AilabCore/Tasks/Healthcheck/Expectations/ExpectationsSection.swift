import Foundation

/// The host as its administrator declared it in the configuration file: services up, endpoints
/// answering, nothing unexpected listening, kernel settings, sshd, the firewall, the GPU count;
/// and the clock synchronised, which needs no declaration. Each expectation is one check, named
/// after its target; the probes run side by side within the healthcheck's timeout.
struct ExpectationsSection: HealthSection {
    let title = "expectations"
    let expect: Expectations

    func probe(_ probe: HealthProbe) async throws -> Findings {
        async let services = serviceChecks(probe)
        async let endpoints = endpointChecks(probe)
        async let listeners = listenerChecks(probe)
        async let sshd = sshdChecks(probe)
        async let firewall = firewallChecks(probe)
        async let gpus = gpuChecks(probe)
        async let time = timeSync(probe)
        var report = Findings()
        for part in try await [services, endpoints, listeners, sshd, firewall, gpus, time, sysctlChecks(probe)] {
            report.checks += part.checks
            report.metrics += part.metrics
            report.data.merge(part.data) { _, new in new }
        }
        // One sample per judged expectation, named as its check ("tcp 127.0.0.1:22" → kind tcp, target 127.0.0.1:22).
        for check in report.checks where check.name != "time sync" && (check.status == .ok || check.status == .warning || check.status == .failed) {
            let kind = String(check.name.prefix { $0 != " " })
            let target = check.name.contains(" ") ? String(check.name.drop { $0 != " " }.dropFirst()) : kind
            report.measure("ailab_expectation_ok", "Whether a declared expectation holds (1) or not (0).",
                           labels: ["kind": kind, "target": target], check.status == .ok ? 1 : 0)
        }
        return report
    }

    private func serviceChecks(_ probe: HealthProbe) async throws -> Findings {
        var report = Findings()
        guard !expect.services.isEmpty else { return report }
        guard probe.has("systemctl") else {
            for unit in expect.services { report.add("service \(unit)", .failed, "systemctl is not installed") }
            return report
        }
        let states = try await probe.call("systemctl", ["is-active"] + expect.services).stdout.split(separator: "\n").map(String.init)
        for (position, unit) in expect.services.enumerated() {
            let state = position < states.count ? states[position] : "unknown"
            report.add("service \(unit)", state == "active" ? .ok : .failed, state)
        }
        return report
    }

    /// TCP connects and HTTP requests, all at once.
    private func endpointChecks(_ probe: HealthProbe) async throws -> Findings {
        var report = Findings()
        let limit = probe.remaining
        let tcp = await withTaskGroup(of: (Int, TCPConnect.Outcome).self) { group in
            for (position, endpoint) in expect.tcp.enumerated() {
                group.addTask { (position, await TCPConnect.attempt(host: endpoint.host, port: endpoint.port, within: limit)) }
            }
            var outcomes = [TCPConnect.Outcome](repeating: .failed("not tried"), count: expect.tcp.count)
            for await (position, outcome) in group { outcomes[position] = outcome }
            return outcomes
        }
        for (endpoint, outcome) in zip(expect.tcp, tcp) {
            switch outcome {
            case .connected(let seconds):
                report.add("tcp \(endpoint)", .ok, String(format: "connected in %.3f s", seconds))
                report.measure("ailab_endpoint_seconds", "Connect time of a TCP endpoint, or response time of an HTTP one.",
                               labels: ["kind": "tcp", "target": endpoint.description], seconds)
            case .failed(let reason):
                report.add("tcp \(endpoint)", .failed, reason)
            }
        }
        guard !expect.http.isEmpty else { return report }
        guard probe.has("curl") else {
            for url in expect.http { report.add("http \(url)", .failed, "curl is not installed (apt-get install curl)") }
            return report
        }
        let answers = try await withThrowingTaskGroup(of: (Int, InvocationResult).self) { group in
            for (position, url) in expect.http.enumerated() {
                group.addTask {
                    let seconds = String(max(1, Int(probe.remaining.timeInterval.rounded(.down)) - 1))
                    return (position, try await probe.call("curl", ["-sS", "-o", "/dev/null", "--max-time", seconds, "-w", "%{http_code} %{time_total}", url]))
                }
            }
            var results: [Int: InvocationResult] = [:]
            for try await (position, result) in group { results[position] = result }
            return results
        }
        for (position, url) in expect.http.enumerated() {
            guard let result = answers[position] else { continue }
            let fields = result.stdout.split(separator: " ")
            let code = fields.first.flatMap { Int($0) } ?? 0
            let seconds = fields.count > 1 ? Double(fields[1]) ?? 0 : 0
            if result.succeeded && (200...299).contains(code) {
                report.add("http \(url)", .ok, String(format: "HTTP %d in %.3f s", code, seconds))
                report.measure("ailab_endpoint_seconds", "Connect time of a TCP endpoint, or response time of an HTTP one.",
                               labels: ["kind": "http", "target": url], seconds)
            } else if code > 0 {
                report.add("http \(url)", .failed, "HTTP \(code)")
            } else {
                report.add("http \(url)", .failed, result.message ?? "curl: \(result.termination)")
            }
        }
        return report
    }

    private func listenerChecks(_ probe: HealthProbe) async throws -> Findings {
        var report = Findings()
        guard probe.has("ss") else {
            report.add("listening", .absent, "ss is not installed (iproute2)")
            return report
        }
        let sockets = SocketList.parse(try await probe.call("ss", ["-Htulpn"]).stdout).filter { !$0.isLoopback }
        report.set("listeners", sockets)
        guard let allowed = expect.listening else {
            report.add("listening", .ok, sockets.isEmpty ? "nothing listens beyond loopback"
                       : "beyond loopback: " + sockets.map(\.summary).joined(separator: ", "))
            return report
        }
        let unexpected = sockets.filter { socket in !allowed.contains { $0.port == socket.port && $0.proto == socket.proto } }
        report.measure("ailab_listeners_unexpected", "Sockets listening beyond loopback that are not declared.", Double(unexpected.count))
        if unexpected.isEmpty {
            report.add("listening", .ok, "only declared ports listen beyond loopback: " + allowed.map(\.description).joined(separator: ", "))
        }
        for socket in unexpected {
            report.add("listening \(socket.port)/\(socket.proto)", .warning, "unexpected listener: \(socket.summary)")
        }
        return report
    }

    private func sysctlChecks(_ probe: HealthProbe) -> Findings {
        var report = Findings()
        for setting in expect.sysctl {
            let path = "/proc/sys/" + setting.key.replacingOccurrences(of: ".", with: "/")
            guard let value = probe.files.read(path)?.trimmingCharacters(in: .whitespacesAndNewlines) else {
                report.add("sysctl \(setting.key)", .warning, "no such setting (\(path))")
                continue
            }
            let same = value.split(whereSeparator: \.isWhitespace) == setting.value.split(whereSeparator: \.isWhitespace)
            report.add("sysctl \(setting.key)", same ? .ok : .warning, same ? value : "is \(value), expected \(setting.value)")
        }
        return report
    }

    /// The effective settings, from `sshd -T` (sshd must read its host keys: root only).
    private func sshdChecks(_ probe: HealthProbe) async throws -> Findings {
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
            for setting in expect.sshd { report.add("sshd \(setting.key)", .failed, "sshd -T: \(result.message ?? result.termination.description)") }
            return report
        }
        var effective: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 1).map(String.init)
            if words.count == 2, effective[words[0]] == nil { effective[words[0]] = words[1] }
        }
        // sshd -T prints the older spelling of prohibit-password.
        func normal(_ value: String?) -> String? { value?.lowercased().replacingOccurrences(of: "without-password", with: "prohibit-password") }
        for setting in expect.sshd {
            let actual = effective[setting.key]
            let same = normal(actual) == normal(setting.value)
            report.add("sshd \(setting.key)", same ? .ok : .failed, same ? setting.value : "is \(actual ?? "not set"), expected \(setting.value)")
        }
        return report
    }

    private func firewallChecks(_ probe: HealthProbe) async throws -> Findings {
        var report = Findings()
        let filter: InboundFilter
        if probe.has("nft") {
            let result = try await probe.call("nft", ["list", "ruleset"])
            guard result.succeeded else { return Self.unreadable("nft list ruleset", result, expected: expect.firewall, probe) }
            filter = FirewallRules.parseNft(result.stdout)
        } else if probe.has("iptables") {
            let result = try await probe.call("iptables", ["-S"])
            guard result.succeeded else { return Self.unreadable("iptables -S", result, expected: expect.firewall, probe) }
            filter = FirewallRules.parseIptables(result.stdout)
        } else {
            report.add("firewall", expect.firewall ? .failed : .absent, "neither nft nor iptables is installed")
            return report
        }
        let detail = "\(filter.tool): inbound policy \(filter.policy ?? "none (no input chain)"), \(filter.rules) rule(s)"
        report.add("firewall", expect.firewall && filter.acceptsEverything ? .failed : .ok,
                   detail + (expect.firewall && filter.acceptsEverything ? "; the input path accepts everything" : ""))
        report.set("firewall", filter)
        return report
    }

    private static func unreadable(_ command: String, _ result: InvocationResult, expected: Bool, _ probe: HealthProbe) -> Findings {
        var report = Findings()
        if !probe.isRoot { report.checks.append(.needsRoot("firewall")) } else {
            report.add("firewall", expected ? .failed : .warning, "\(command): \(result.message ?? result.termination.description)")
        }
        return report
    }

    private func gpuChecks(_ probe: HealthProbe) async throws -> Findings {
        var report = Findings()
        guard let wanted = expect.gpus else { return report }
        guard probe.has("nvidia-smi") else {
            report.add("gpus \(wanted)", .failed, "expected \(wanted) GPU(s); nvidia-smi is not installed")
            return report
        }
        let result = try await probe.call("nvidia-smi", ["-L"])
        let count = result.succeeded ? NvidiaSMI.parseList(result.stdout).count : 0
        report.add("gpus \(wanted)", count >= wanted ? .ok : .failed, "\(count) GPU(s) answer, expected at least \(wanted)"
                   + (result.succeeded ? "" : " (nvidia-smi -L: \(result.message ?? result.termination.description))"))
        return report
    }

    /// Always checked: `timedatectl`, or `chronyc` where systemd-timesyncd is not in use.
    private func timeSync(_ probe: HealthProbe) async throws -> Findings {
        var report = Findings()
        var synchronised: Bool?
        var source = ""
        if probe.has("timedatectl") {
            let result = try await probe.call("timedatectl", ["show", "-p", "NTPSynchronized", "--value"])
            if result.succeeded { synchronised = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "yes"; source = "timedatectl" }
        }
        if synchronised == nil, probe.has("chronyc") {
            let result = try await probe.call("chronyc", ["-c", "tracking"])
            // The last field of the CSV is the leap status: "Normal" once synchronised.
            if result.succeeded {
                synchronised = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").last == "Normal"
                source = "chronyc"
            }
        }
        guard let synchronised else {
            report.add("time sync", .absent, "neither timedatectl nor chronyc can tell")
            return report
        }
        report.add("time sync", synchronised ? .ok : .warning, synchronised ? "synchronised (\(source))" : "not synchronised (\(source))")
        report.measure("ailab_time_synchronized", "Whether the clock is synchronised (1) or not (0).", synchronised ? 1 : 0)
        return report
    }
}
