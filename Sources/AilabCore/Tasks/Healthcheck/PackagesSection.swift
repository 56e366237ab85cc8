/// The package system: packages an interrupted dpkg left half-way block every later install.
struct PackagesSection: HealthSection {
    let title = "packages"

    func probe(_ probe: HealthProbe) async throws -> Findings {
        var report = Findings()
        let query = AptCommands.packageStates
        guard probe.has(query.executable) else {
            report.add("dpkg", .absent, "dpkg-query is not installed: not a Debian or Ubuntu host")
            return report
        }
        let interrupted = try InterruptedDpkg.packages(try await probe.call(query.executable, query.arguments))
        report.add(InterruptedDpkg.check(interrupted))
        report.set("interruptedPackages", interrupted)
        report.measure("ailab_dpkg_interrupted", "Whether an interrupted dpkg left packages half-way (1) or not (0).",
                       interrupted.isEmpty ? 0 : 1)
        return report
    }
}
