import FoundationEssentials

/// Hostname, OS, kernel, uptime, load, memory and whether a reboot is pending.
struct HostSection: HealthSection {
    let title = "host"
    let host: String

    struct Facts: Encodable {
        var hostname: String
        var os: String?
        var kernel: String?
        var uptimeSeconds: Double?
        var load: [Double]?
        var memoryTotalBytes: Int64?
        var memoryAvailableBytes: Int64?
        var rebootRequired: Bool
        var rebootPackages: [String]
    }

    func findings(from probe: SectionContext) async throws -> Findings {
        let files = probe.files
        let os =
            files.read("/etc/os-release").flatMap(HostFacts.prettyName)
            ?? files.read("/usr/lib/os-release").flatMap(HostFacts.prettyName)
        let kernel = probe.runningKernel
        let uptime = probe.uptime
        let load = files.read("/proc/loadavg").flatMap(HostFacts.load)
        let cpus = files.read("/sys/devices/system/cpu/online").flatMap(HostFacts.cpuCount)
        let memory = files.read("/proc/meminfo").flatMap(HostFacts.memory)
        let (rebootRequired, rebootPackages) = files.rebootFlag

        var findings = Findings()
        let system = [os ?? "unknown OS", "kernel \(kernel ?? "unknown")", uptime.map { "up \(HostFacts.duration($0))" }]
        findings.add("system", .ok, system.compactMap { $0 }.joined(separator: ", "))
        if let load {
            let busy = cpus.map { load[1] > Double(2 * $0) } ?? false
            findings.add(
                "load", busy ? .warning : .ok,
                load.map { $0.fixed(2) }.joined(separator: " ") + (cpus.map { " on \($0) CPUs" } ?? ", CPU count unknown")
                    + (busy ? "; 5-minute load is over twice the CPU count" : ""),
                next: "find what keeps the CPUs busy or waiting: top -o %CPU, and vmstat 5 for I/O wait")
        }
        if let memory {
            let low = memory.available * 10 < memory.total
            findings.add(
                "memory", low ? .warning : .ok,
                "\(ByteCount.format(memory.available)) of \(ByteCount.format(memory.total)) available"
                    + (low ? "; under 10% left" : ""),
                next: "find what holds it: ps aux --sort=-rss | head")
        }
        let stuck = StuckProcesses.read(probe)
        findings.add(StuckProcesses.check(stuck))
        findings.measure(
            "ailab_processes_stuck", "Processes in the D state (uninterruptible) for longer than the bound.",
            Double(stuck.filter { $0.ageSeconds >= StuckProcesses.bound }.count))
        for port in InfiniBandPorts.read(files) {
            findings.add(InfiniBandPorts.check(port))
            findings.measure(
                "ailab_infiniband_port_active", "Whether an InfiniBand port is active (1) or not (0).",
                labels: ["device": port.device, "port": port.port], port.state == "ACTIVE" ? 1 : 0)
        }
        findings.measure("ailab_reboot_required", "Whether the host needs a reboot (1) or not (0).", rebootRequired ? 1 : 0)
        if rebootRequired {
            findings.add(
                "reboot", .warning, "required" + (rebootPackages.isEmpty ? "" : " by " + rebootPackages.joined(separator: ", ")),
                next: "drain the host and reboot it when its jobs allow")
        } else {
            findings.add("reboot", .ok, "not required")
        }
        findings.set(
            "host",
            Facts(
                hostname: host, os: os, kernel: kernel, uptimeSeconds: uptime, load: load,
                memoryTotalBytes: memory?.total, memoryAvailableBytes: memory?.available,
                rebootRequired: rebootRequired, rebootPackages: rebootPackages))
        return findings
    }
}
