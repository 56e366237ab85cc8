import FoundationEssentials

/// A hardware fault that hits the same device in two boots is no longer one a reboot cures: the
/// check fails and asks for an inspection (gpud escalates the same way after a second reboot).
/// Beside the per-boot counters, each kind and device's count over the window.
package enum Escalation {
    package static let window: TimeInterval = 14 * 86_400
    package static let verdict = "came back after a reboot: the hardware needs inspection"

    /// `kept`: the events of the window, this boot's included; `boot`: this boot's id. A run that
    /// read no kernel log is left as it is.
    package static func apply(_ kept: [KeptEvent], to report: Report, boot: String?) -> Report {
        guard let logged = report.findings.events else { return report }
        var report = report
        let now = report.finishedAt
        let recent = kept.filter { now.timeIntervalSince($0.lastSeen) <= window }
        // Without this boot's id, no event can be told to be from another boot.
        for event in logged where event.hardware && boot != nil {
            let earlier = recent.filter {
                $0.boot != boot && $0.event.hardware && $0.event.device == event.device && family($0.event.kind) == family(event.kind)
            }
            guard let last = earlier.max(by: { $0.lastSeen < $1.lastSeen }),
                let index = report.findings.checks.firstIndex(where: { $0.name == event.check })
            else { continue }
            var check = report.findings.checks[index]
            check.status = .failed
            check.recurring = true
            let boots = Set(earlier.map(\.boot)).count
            check.detail += "; \(verdict) (also in \(boots) earlier boot(s), last seen \(Timestamp.iso8601(last.lastSeen)))"
            check.next = "drain \(event.device) and have its hardware inspected or replaced (RMA); a reset or reboot did not cure it"
            report.findings.checks[index] = check
        }
        var counts: [String: (kind: String, device: String, count: Int)] = [:]
        for kept in recent where kept.boot != boot {
            counts[kept.event.kind + " " + kept.event.device, default: (kept.event.kind, kept.event.device, 0)].count += kept.event.count
        }
        for event in logged {
            counts[event.kind + " " + event.device, default: (event.kind, event.device, 0)].count += event.count
        }
        for (_, entry) in counts.sorted(by: { $0.key < $1.key }) {
            report.findings.measure(
                "ailab_kernel_events_recent", "Kernel log events of the last 14 days, every boot kept, by kind and device.",
                labels: ["kind": entry.kind, "device": entry.device], Double(entry.count))
        }
        return report
    }

    /// Xids of one GPU are one fault whatever their code; the kernel's kinds stand alone.
    private static func family(_ kind: String) -> String {
        kind.hasPrefix("xid_") ? "xid" : kind
    }
}
