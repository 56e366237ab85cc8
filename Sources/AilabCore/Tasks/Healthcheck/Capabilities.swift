/// The Linux capabilities this process holds (`CapEff:` in /proc/self/status). A unit's
/// CapabilityBoundingSet= takes some away from root; a check whose tool needs one of those says
/// so instead of reporting what the tool printed without it.
package struct Capabilities: Sendable, Equatable {
    /// Bit numbers from linux/capability.h.
    package enum Name: Int, Sendable {
        case netAdmin = 12
        case sysPtrace = 19

        package var name: String {
            switch self {
            case .netAdmin: "CAP_NET_ADMIN"
            case .sysPtrace: "CAP_SYS_PTRACE"
            }
        }
    }

    /// nil: unknown (no /proc), taken as everything root holds.
    let effective: UInt64?

    package init(status: String?) {
        let line = status?.split(separator: "\n").first { $0.hasPrefix("CapEff:") }
        effective = line.flatMap { UInt64($0.dropFirst("CapEff:".count).trimmed(where: \.isBlank), radix: 16) }
    }

    package func holds(_ capability: Name) -> Bool {
        effective.map { $0 & (1 << UInt64(capability.rawValue)) != 0 } ?? true
    }

    /// A skipped check for a tool that needs `capability`, when this process lacks it; nil otherwise.
    package func missing(_ capability: Name, check: String, tool: String, isRoot: Bool) -> Check? {
        guard isRoot, !holds(capability) else { return nil }
        return Check(
            check, .skipped, "skipped under the unit's sandbox: \(tool) needs \(capability.name), which this run does not hold",
            next: "add \(capability.name) to the unit's CapabilityBoundingSet= (systemctl edit), or run it by hand with sudo")
    }
}
