import FoundationEssentials

/// InfiniBand (and RoCE) ports from sysfs, `/sys/class/infiniband/<device>/ports/<port>/`
/// (Documentation/ABI/stable/sysfs-class-infiniband): `state`, `phys_state`, `rate`, and the
/// `link_downed` counter, which counts the times the link went down. Nothing where there is none.
enum InfiniBandPorts {
    static let folder = "/sys/class/infiniband"

    struct Port: Sendable, Equatable {
        var device: String
        var port: String
        /// "ACTIVE", "DOWN", "INIT", "ARMED", "ACTIVE_DEFER": the word after "4: ".
        var state: String
        /// "LinkUp", "Polling", "Disabled", "LinkErrorRecovery", …
        var physicalState: String
        var rate: String?
        var linkDowned: Int?

        var name: String { "ib \(device)/\(port)" }
    }

    static func read(_ files: HostFiles) -> [Port] {
        func value(_ path: String) -> String? {
            files.read(path)?.trimmed().split(separator: ":", maxSplits: 1).last.map { $0.trimmed(where: \.isBlank) }
        }
        return files.list(folder).flatMap { device in
            files.list("\(folder)/\(device)/ports").compactMap { port in
                let base = "\(folder)/\(device)/ports/\(port)"
                guard let state = value(base + "/state"), let physical = value(base + "/phys_state") else { return nil }
                return Port(
                    device: device, port: port, state: state, physicalState: physical, rate: files.read(base + "/rate")?.trimmed(),
                    linkDowned: files.read(base + "/counters/link_downed").flatMap { Int($0.trimmed()) })
            }
        }
    }

    /// A port that is not disabled is expected to be active: down, or up but not configured, is
    /// failed. A link that went down since the counters were reset (a flap) is a warning.
    static func check(_ port: Port) -> Check {
        if port.physicalState == "Disabled" { return Check(port.name, .ok, "disabled") }
        guard port.state == "ACTIVE" else {
            let configured = port.physicalState == "LinkUp"
            return Check(
                port.name, .failed,
                "\(port.state) (\(port.physicalState))"
                    + (configured ? ": the link is up but no subnet manager made it active" : ": no link"),
                next: configured
                    ? "check the subnet manager (sminfo; opensm or the switch's), then ibstat \(port.device) \(port.port)"
                    : "check the cable and the switch port (ibstat \(port.device) \(port.port)); disable the port if it is unused")
        }
        let detail = "ACTIVE" + (port.rate.map { ", \($0)" } ?? "")
        if let downed = port.linkDowned, downed > 0 {
            return Check(
                port.name, .warning, detail + "; the link went down \(downed) time(s) since the counters were reset",
                next: "check the cable and the switch port for errors (perfquery -x); reset the counters once fixed (perfquery -R)")
        }
        return Check(port.name, .ok, detail)
    }
}
