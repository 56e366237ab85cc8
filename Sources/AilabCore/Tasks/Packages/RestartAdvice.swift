/// The next step for what runs outdated code, the same after an upgrade and in healthcheck.
/// needrestart names PID 1 `systemd-manager`, which re-executes instead of restarting; restarting
/// D-Bus, logind or a user's manager ends login sessions, so those wait for the next reboot.
package enum RestartAdvice {
    static let reexec = "systemd-manager"

    static func waitsForReboot(_ service: String) -> Bool {
        ["dbus.service", "dbus-broker.service", "systemd-logind.service"].contains(service)
            || (service.hasPrefix("user@") && service.hasSuffix(".service"))
    }

    package static func next(services: [String], containers: [String]) -> String {
        var steps: [String] = []
        let restartable = services.filter { $0 != reexec && !waitsForReboot($0) }
        // A long list stays in the check's detail; the step stays one short line.
        let names = restartable.joined(separator: " ")
        if !restartable.isEmpty {
            steps.append("sudo systemctl restart " + (names.count <= 60 ? names : "the \(restartable.count) services named"))
        }
        if services.contains(reexec) { steps.append("sudo systemctl daemon-reexec (systemd itself)") }
        let waiting = services.filter(waitsForReboot)
        if !waiting.isEmpty {
            steps.append("leave \(waiting.joined(separator: ", ")) to the next reboot (a restart ends login sessions)")
        }
        if !containers.isEmpty { steps.append("restart \(containers.joined(separator: ", ")) with their owners") }
        return "when their users allow: " + steps.joined(separator: "; ")
    }
}
