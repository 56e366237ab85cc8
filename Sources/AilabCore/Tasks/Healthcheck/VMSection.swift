/// libvirt domains and their states.
struct VMSection: HealthSection {
    let title = "vms"

    func probe(_ probe: HealthProbe) async throws -> Findings {
        var report = Findings()
        if let absence = ComponentPresence.libvirtAbsence(probe.run) {
            report.add("libvirt", .absent, absence)
            return report
        }
        // Without root virsh would talk to the user's own session, not the host's VMs.
        guard probe.isRoot || probe.run.context.environment["LIBVIRT_DEFAULT_URI"] != nil else {
            report.checks.append(.needsRoot("libvirt"))
            return report
        }
        let listed = try await probe.call("virsh", ["list", "--all"])
        guard listed.succeeded else {
            report.add(
                "libvirt", .failed, "cannot connect: \(listed.message ?? listed.termination.description)",
                next: "sudo systemctl status libvirtd, and virsh list --all by hand")
            return report
        }
        let domains = try VirshTable.parseDomains(listed.stdout)
        let running = domains.filter { $0.state == "running" }.count
        report.add(
            "domains", .ok,
            domains.isEmpty
                ? "no domains"
                : "\(domains.count) domains, \(running) running: "
                    + domains.map { "\($0.name) (\($0.state))" }.joined(separator: ", "))
        report.set("domains", domains)
        return report
    }
}
