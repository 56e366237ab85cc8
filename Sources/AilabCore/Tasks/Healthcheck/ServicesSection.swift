import FoundationEssentials

/// Failed systemd units, and ailab's own timers with their services' last result.
struct ServicesSection: HealthSection {
    let title = "services"
    static var timedTasks: [String] { TaskCatalog.scheduled.map(\.name) }
    static let serviceProperties = "Id,Result,ExecMainCode,ExecMainStatus,ExecMainExitTimestamp"

    func findings(from probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        guard probe.has("systemctl") else {
            findings.add("systemd", .absent, "systemctl is not installed")
            return findings
        }
        let failedJSON = try await probe.call("systemctl", Systemctl.failedJSONArguments)
        if Self.systemdIsDown(failedJSON) {
            findings.add("systemd", .absent, "systemd is not running here: \(failedJSON.message ?? "")")
            return findings
        }
        let listed: [FailedUnit]
        if failedJSON.succeeded, let units = try? Systemctl.parseFailedJSON(failedJSON.stdout) {
            listed = units
        } else {
            // systemd before 246 has no --output=json: read the plain table instead.
            let plain = try await probe.call("systemctl", Systemctl.failedPlainArguments)
            guard plain.succeeded else {
                findings.add(
                    "failed units", .failed, "systemctl list-units: \(plain.message ?? plain.termination.description)",
                    next: "run systemctl --failed by hand to see its error")
                return findings
            }
            listed = Systemctl.parseFailedPlain(plain.stdout)
        }
        // ailab's own services are judged by their timers' checks below: one alert per cause.
        let own = Set(Self.timedTasks.map { "ailab-\($0).service" })
        let failed = listed.filter { !own.contains($0.unit) }
        findings.add(
            "failed units", failed.isEmpty ? .ok : .failed,
            failed.isEmpty ? "none" : "\(failed.count) failed: " + failed.map(\.unit).joined(separator: ", "),
            next: "read why: systemctl status \(failed.first?.unit ?? "UNIT"); once fixed, sudo systemctl reset-failed")
        findings.set("failedUnits", failed)
        findings.checks += try await timerChecks(probe)
        return findings
    }

    private func timerChecks(_ probe: SectionContext) async throws -> [Check] {
        let timerNames = Self.timedTasks.map { "ailab-\($0).timer" }
        let listed = try await probe.call("systemctl", ["list-timers", "--all", "--output=json", "--no-pager"] + timerNames)
        guard listed.succeeded, let timers = try? Systemctl.parseTimers(listed.stdout) else {
            return [
                Check(
                    "ailab timers", .warning, "cannot list timers: \(listed.message ?? listed.termination.description)",
                    next: "run systemctl list-timers 'ailab-*' by hand to see its error")
            ]
        }
        let services = Self.timedTasks.map { "ailab-\($0).service" }
        let shown = try await probe.call("systemctl", ["show", "--property=" + Self.serviceProperties] + services)
        let results = Dictionary(
            Systemctl.parseShow(shown.stdout).compactMap { properties in
                properties["Id"].map { ($0, properties) }
            }, uniquingKeysWith: { first, _ in first })
        return Self.timedTasks.map { task in
            let name = "ailab-\(task).timer"
            guard let timer = timers.first(where: { $0.unit == name }) else {
                return Check(name, .absent, "not enabled (sudo install.sh --enable \(task), or systemctl enable --now \(name))")
            }
            var parts = [
                "next " + (timer.next.map(Self.format) ?? "not scheduled"),
                "last " + (timer.last.map(Self.format) ?? "never"),
            ]
            let properties = results["ailab-\(task).service"] ?? [:]
            // A service started by hand has a result even when its timer never fired.
            let exited = properties["ExecMainExitTimestamp"].map { !$0.isEmpty } ?? false
            guard timer.last != nil || exited, let result = properties["Result"] else {
                return Check(name, .ok, parts.joined(separator: ", "))
            }
            if timer.last == nil, let ended = properties["ExecMainExitTimestamp"] { parts.append("service ran \(ended)") }
            parts.append("result \(result)")
            // ExecMainCode is the waitid() code: 1 exited, 2 killed, 3 dumped core.
            let signaled = properties["ExecMainCode"] == "2" || properties["ExecMainCode"] == "3"
            // Exit 1 is the task's own verdict (a check failed), which its report and
            // ailab_exit_code already carry: the timer fails only when the run itself broke.
            let foundAFailure = result == "exit-code" && !signaled && properties["ExecMainStatus"] == "1"
            let failed = result != "success" && !foundAFailure
            if result != "success", let status = properties["ExecMainStatus"] {
                parts.append(signaled ? "killed by signal \(status)" : "exit status \(status)")
            }
            if foundAFailure { parts.append("its own checks found a failure (its report names it)") }
            return Check(
                name, failed ? .failed : .ok, parts.joined(separator: ", "),
                next: "read its run: sudo journalctl -u ailab-\(task).service -n 50, and /var/log/ailab-\(task).log")
        }
    }

    static func systemdIsDown(_ result: InvocationResult) -> Bool {
        !result.succeeded
            && (result.stderr.contains("has not been booted with systemd")
                || result.stderr.contains("Failed to connect to bus")
                || result.stderr.contains("Failed to connect to system scope bus"))
    }

    static func format(_ date: Date) -> String {
        Timestamp.format(date, "%Y-%m-%d %H:%M")
    }
}
