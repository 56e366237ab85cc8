/// The host's own security pockets, as unattended-upgrades' default patterns name them: the
/// distribution's origin with its codename and `-security` (`Ubuntu`, `jammy-security`), Ubuntu's
/// ESM pockets for that codename, and Debian's `Debian-Security` label for that release. An
/// origin that merely calls a suite `*-security` is not a security fix.
package struct SecurityPockets: Sendable, Equatable {
    /// `Ubuntu` or `Debian`: os-release's ID as unattended-upgrades' `distro_id`.
    package var distribution: String
    package var codename: String
    /// os-release's VERSION_ID, which Debian's security archive carries as its version.
    package var version: String?

    /// From /etc/os-release (or /usr/lib/os-release); nil without an ID and a codename.
    package init?(osRelease: String) {
        guard let id = HostFacts.osReleaseField("ID", osRelease),
            let codename = HostFacts.osReleaseField("VERSION_CODENAME", osRelease)
        else { return nil }
        distribution = id.prefix(1).uppercased() + id.dropFirst()
        self.codename = codename
        version = HostFacts.osReleaseField("VERSION_ID", osRelease)
    }

    /// The host's pockets; nil (nothing counts as a security fix) when os-release says too little.
    package static func of(_ files: HostFiles) -> SecurityPockets? {
        (files.read("/etc/os-release") ?? files.read("/usr/lib/os-release")).flatMap(SecurityPockets.init(osRelease:))
    }

    package func contains(_ change: PackageChange) -> Bool {
        change.sources.contains { source in
            switch source.label {
            case distribution: source.archive == codename + "-security"
            case distribution + "ESMApps": source.archive == codename + "-apps-security"
            case distribution + "ESM": source.archive == codename + "-infra-security"
            case "Debian-Security":
                distribution == "Debian" && (source.archive == codename + "-security" || (version != nil && source.version == version))
            default: false
            }
        }
    }

    /// What the plan says of the host's pockets, and of upgrades from look-alike ones.
    package var description: String { "\(distribution) \(codename)'s security pockets" }
}
