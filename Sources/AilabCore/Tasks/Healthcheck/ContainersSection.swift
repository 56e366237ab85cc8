/// The Docker daemon: reachable, container counts, unhealthy containers, disk use.
struct ContainersSection: HealthSection {
    let title = "containers"

    func probe(_ probe: HealthProbe) async throws -> Findings {
        var report = Findings()
        if let absence = ComponentPresence.dockerAbsence(probe.run) {
            report.add("docker", .absent, absence)
            return report
        }
        let info = try await probe.call("docker", ["info", "--format", "{{json .}}"])
        let counts = info.succeeded ? try? DockerJSON.parseInfo(info.stdout) : nil
        guard let counts, counts.serverVersion != "" else {
            let message = info.message ?? info.termination.description
            if !probe.isRoot && message.lowercased().contains("permission denied") {
                report.checks.append(.needsRoot("docker"))
            } else {
                report.add(
                    "docker", .failed, "daemon not answering: \(message)",
                    next: "sudo systemctl status docker, then sudo journalctl -u docker -n 50 for its reason")
            }
            return report
        }
        report.add(
            "docker", .ok,
            "engine \(counts.serverVersion): \(counts.running) running, "
                + "\(counts.stopped) stopped, \(counts.paused) paused, \(counts.images) images")
        report.set("docker", counts)

        async let unhealthyCall = probe.call("docker", ["ps", "--filter", "health=unhealthy", "--format", "{{json .}}"])
        async let diskCall = probe.call("docker", ["system", "df", "--format", "{{json .}}"])
        let (unhealthyResult, diskResult) = try await (unhealthyCall, diskCall)
        if unhealthyResult.succeeded, let rows = try? DockerJSON.lines(unhealthyResult.stdout) {
            let names = rows.map { $0.text("Names") }
            report.add(
                "unhealthy containers", names.isEmpty ? .ok : .warning,
                names.isEmpty ? "none" : names.joined(separator: ", "),
                next: "read the failing health check: docker inspect --format '{{json .State.Health}}' NAME")
            report.set("unhealthyContainers", names)
        } else {
            report.add(
                "unhealthy containers", .warning, "docker ps: \(unhealthyResult.message ?? "")",
                next: "run docker ps by hand to see its error")
        }
        if diskResult.succeeded, let rows = try? DockerJSON.parseSystemDF(diskResult.stdout) {
            report.add(
                "docker disk", .ok,
                rows.map(\.summary)
                    .joined(separator: "; "))
            report.set("dockerDisk", rows)
        } else {
            report.add(
                "docker disk", .warning, "docker system df: \(diskResult.message ?? "")",
                next: "run docker system df by hand to see its error")
        }
        return report
    }
}
