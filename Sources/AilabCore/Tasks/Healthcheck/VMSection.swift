/// libvirt domains and their states.
struct VMSection: HealthSection {
    let title = "vms"

    func findings(from probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        if let absence = ComponentPresence.libvirtAbsence(probe.run) {
            findings.add("libvirt", .absent, absence)
            return findings
        }
        // Without root virsh would talk to the user's own session, not the host's VMs.
        guard probe.isRoot || probe.run.context.environment["LIBVIRT_DEFAULT_URI"] != nil else {
            findings.checks.append(.needsRoot("libvirt"))
            return findings
        }
        let listed = try await probe.call("virsh", ["list", "--all"])
        guard listed.succeeded else {
            findings.add(
                "libvirt", .failed, "cannot connect: \(listed.message ?? listed.termination.description)",
                next: "sudo systemctl status libvirtd, and virsh list --all by hand")
            return findings
        }
        let domains = try VirshTable.parseDomains(listed.stdout)
        let running = domains.filter { $0.state == "running" }.count
        findings.add(
            "domains", .ok,
            domains.isEmpty
                ? "no domains"
                : "\(domains.count) domains, \(running) running: "
                    + domains.map { "\($0.name) (\($0.state))" }.joined(separator: ", "))
        findings.set("domains", domains)
        return findings
    }
}
