/// The Docker daemon: reachable, container counts, unhealthy containers, disk use.
struct ContainersSection: HealthSection {
    let title = "containers"

    func findings(from probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        if let absence = ComponentPresence.dockerAbsence(probe.run) {
            findings.add("docker", .absent, absence)
            return findings
        }
        let info = try await probe.call("docker", ["info", "--format", "{{json .}}"])
        let counts = info.succeeded ? try? DockerJSON.parseInfo(info.stdout) : nil
        guard let counts, counts.serverVersion != "" else {
            let message = DockerJSON.daemonError(info) ?? info.termination.description
            if !probe.isRoot && message.lowercased().contains("permission denied") {
                findings.checks.append(.needsRoot("docker"))
            } else {
                findings.add(
                    "docker", .failed, "daemon not answering: \(message)",
                    next: "sudo systemctl status docker, then sudo journalctl -u docker -n 50 for its reason")
            }
            return findings
        }
        findings.add(
            "docker", .ok,
            "engine \(counts.serverVersion): \(counts.running) running, "
                + "\(counts.stopped) stopped, \(counts.paused) paused, \(counts.images) images")
        findings.set("docker", counts)

        async let unhealthyCall = probe.call("docker", ["ps", "--filter", "health=unhealthy", "--format", "{{json .}}"])
        async let diskCall = probe.call("docker", ["system", "df", "--format", "{{json .}}"])
        let (unhealthyResult, diskResult) = try await (unhealthyCall, diskCall)
        if unhealthyResult.succeeded, let rows = try? DockerJSON.lines(unhealthyResult.stdout) {
            let names = rows.map { $0.text("Names") }
            findings.add(
                "unhealthy containers", names.isEmpty ? .ok : .warning,
                names.isEmpty ? "none" : names.joined(separator: ", "),
                next: "read the failing health check: docker inspect --format '{{json .State.Health}}' NAME")
            findings.set("unhealthyContainers", names)
        } else {
            findings.add(
                "unhealthy containers", .warning, "docker ps: \(unhealthyResult.message ?? "")",
                next: "run docker ps by hand to see its error")
        }
        if diskResult.succeeded, let rows = try? DockerJSON.parseSystemDF(diskResult.stdout) {
            findings.add(
                "docker disk", .ok,
                rows.map(\.summary)
                    .joined(separator: "; "))
            findings.set("dockerDisk", rows)
        } else {
            findings.add(
                "docker disk", .warning, "docker system df: \(diskResult.message ?? "")",
                next: "run docker system df by hand to see its error")
        }
        return findings
    }
}
