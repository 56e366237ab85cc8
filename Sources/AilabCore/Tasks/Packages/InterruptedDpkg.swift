/// A dpkg run that was cut short leaves packages half-way: until `dpkg --configure -a` finishes
/// them, apt refuses to install or upgrade anything. healthcheck fails such a host, and every
/// package task refuses to plan on it.
package enum InterruptedDpkg {
    package static let fix = "sudo dpkg --configure -a"

    /// The packages an interrupted dpkg left, from `dpkg-query -W -f DpkgQuery.format`.
    package static func packages(_ states: InvocationResult) throws -> [InstalledPackage] {
        guard states.succeeded else { throw AilabError.failed(states.failureSummary) }
        return try DpkgQuery.parse(states.stdout).filter { $0.interruptedState != nil }
    }

    package static func check(_ interrupted: [InstalledPackage]) -> Check {
        guard !interrupted.isEmpty else { return Check("dpkg", .ok, "no package is left half-way by an interrupted dpkg") }
        let names = interrupted.map { "\($0.name) \($0.version) (\($0.interruptedState ?? $0.status))" }
        return Check(
            "dpkg", .failed,
            "an interrupted dpkg left \(names.joined(separator: ", ")); nothing can be installed "
                + "or upgraded until it is finished", next: fix)
    }
}
