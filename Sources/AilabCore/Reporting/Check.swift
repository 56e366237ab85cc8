/// The verdict of one check.
package enum Status: String, Sendable, Codable, CaseIterable {
    case ok, warning, failed, skipped, absent

    /// The upper-case word shown to people.
    package var label: String { rawValue.uppercased() }
}

/// One line of a report: what was checked, how it came out, and the figures behind it.
package struct Check: Sendable, Equatable, Codable {
    package var name: String
    package var status: Status
    package var detail: String
    /// What to do about a failed or warning check, in one line ("sudo dpkg --configure -a").
    package var next: String?
    /// The healthcheck section the check belongs to (host, storage, …); nil elsewhere.
    package var section: String?
    /// An acknowledgement that holds: the check then counts in no exit code, list or alert.
    package var acknowledged: Acknowledgement?
    /// A hardware fault that came back after a reboot (history's escalation).
    package var recurring = false

    package init(_ name: String, _ status: Status, _ detail: String, next: String? = nil, section: String? = nil) {
        self.name = name
        self.status = status
        self.detail = detail
        self.next = status == .failed || status == .warning ? next : nil
        self.section = section
    }

    /// A check for a probe that needs root, in a run without it.
    package static func needsRoot(_ name: String, section: String? = nil) -> Check {
        Check(name, .skipped, "skipped (needs root)", section: section)
    }
}
