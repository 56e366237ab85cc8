/// Every SMART-capable device's health. `--nocheck=standby` leaves sleeping disks asleep.
struct SMARTSection: HealthSection {
    let title = "smart"
    /// smartctl runs at most this many at once: a host of 24 disks is read in six rounds.
    static let concurrentProbes = 4

    func probe(_ probe: HealthProbe) async throws -> Findings {
        var report = Findings()
        guard probe.has("smartctl") else {
            report.add("smartctl", .absent, "smartctl is not installed (smartmontools)")
            return report
        }
        guard probe.isRoot else {
            report.checks.append(.needsRoot("smartctl"))
            return report
        }
        let scan = try await probe.call("smartctl", ["--json", "--scan-open"])
        let devices = try Smartctl.parseScan(scan.stdout)
        if devices.isEmpty {
            report.add("smartctl", .ok, "no SMART-capable devices found")
            return report
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
                report.add(name, status, detail, next: health.nextStep)
                report.metrics.append(
                    MetricSample(
                        "ailab_smart_health", "SMART verdict per device: 0 ok, 1 warning, 2 failed.",
                        labels: ["device": name], value: status.metricValue))
            } else {
                report.add(
                    name, .warning, "smartctl gave no readable report: \(message)",
                    next: "read it by hand: sudo smartctl -a \(devices[index].name)")
            }
        }
        report.set("smart", healths.compactMap(\.1))
        return report
    }
}
