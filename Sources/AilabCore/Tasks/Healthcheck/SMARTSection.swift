/// Every SMART-capable device's health. `--nocheck=standby` leaves sleeping disks asleep.
struct SMARTSection: HealthSection {
    let title = "smart"
    /// smartctl runs at most this many at once: a host of 24 disks is read in six rounds.
    static let concurrentProbes = 4

    func findings(from probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        guard probe.has("smartctl") else {
            findings.add("smartctl", .absent, "smartctl is not installed (smartmontools)")
            return findings
        }
        guard probe.isRoot else {
            findings.checks.append(.needsRoot("smartctl"))
            return findings
        }
        let scan = try await probe.call("smartctl", ["--json", "--scan-open"])
        let devices = try Smartctl.parseScan(scan.stdout)
        if devices.isEmpty {
            findings.add("smartctl", .ok, "no SMART-capable devices found")
            return findings
        }
        let healths = try await boundedMap(Array(devices.enumerated()), limit: Self.concurrentProbes) { index, device in
            let result = try await probe.call(
                "smartctl",
                [
                    "--json", "--info", "--health", "--attributes", "--log=error", "--nocheck=standby",
                    "--device=\(device.type)", device.name,
                ])
            return (index, try? Smartctl.parseHealth(result.stdout, device: device.name), result.message ?? result.termination.description)
        }
        for (index, health, message) in healths {
            let name = devices[index].name + (devices[index].type.contains(",") ? " [\(devices[index].type)]" : "")
            if let health {
                let (status, detail) = health.verdict
                findings.add(name, status, detail, next: health.nextStep)
                findings.metrics.append(
                    MetricSample(
                        "ailab_smart_health", "SMART verdict per device: 0 ok, 1 warning, 2 failed.",
                        labels: ["device": name], value: status.metricValue))
            } else {
                findings.add(
                    name, .warning, "smartctl gave no readable report: \(message)",
                    next: "read it by hand: sudo smartctl -a \(devices[index].name)")
            }
        }
        findings.set("smart", healths.compactMap(\.1))
        return findings
    }
}
