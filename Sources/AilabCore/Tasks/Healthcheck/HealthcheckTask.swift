/// healthcheck: the whole host in one report. Sections probe concurrently, each bounded by the
/// timeout, so one hung tool costs one timeout and the rest of the report is complete.
package struct HealthcheckTask: MaintenanceTask {
    package let name = TaskCatalog.healthcheck.name
    package let keepsLog = false
    package let timeout: Duration
    package let threshold: Int
    package let backupFolder: String
    package let backupMaxAge: Duration
    package let expectations: Expectations

    package init(
        timeout: Duration, threshold: Int, backupFolder: String, backupMaxAge: Duration, expectations: Expectations = Expectations()
    ) {
        self.timeout = timeout
        self.threshold = threshold
        self.backupFolder = backupFolder
        self.backupMaxAge = backupMaxAge
        self.expectations = expectations
    }

    func sections(host: String) -> [any HealthSection] {
        [
            HostSection(host: host), StorageSection(), ServicesSection(), ContainersSection(), VMSection(),
            GPUSection(), KernelLogSection(), SMARTSection(), PackagesSection(),
            BackupSection(folder: backupFolder, maximumAge: backupMaxAge),
            ExpectationsSection(expect: expectations),
        ]
    }

    package func run(_ run: TaskRun) async throws -> Findings {
        let sections = sections(host: run.context.host)
        let probe = SectionContext(run: run, deadline: ContinuousClock.now + timeout, threshold: threshold)
        let reports = await withTaskGroup(of: (Int, Findings).self) { group in
            for (index, section) in sections.enumerated() {
                group.addTask { (index, await Self.report(section, probe)) }
            }
            var collected = [Findings](repeating: Findings(), count: sections.count)
            for await (index, report) in group { collected[index] = report }
            return collected
        }
        var findings = Findings()
        findings.set("threshold", threshold)
        // Every documented key is present: a section with nothing to report gives [] or null.
        for key in TaskCatalog.healthcheck.lists { findings.set(key, [String]()) }
        for key in ["docker", "firewall", "newestBackup", "needRestart"] { findings.data[key] = .null }
        for (section, report) in zip(sections, reports) {
            var report = report
            for index in report.checks.indices { report.checks[index].section = section.title }
            findings.merge(report)
        }
        return findings
    }

    /// A section that throws becomes one failed check naming what went wrong.
    static func report(_ section: any HealthSection, _ probe: SectionContext) async -> Findings {
        do {
            return try await section.findings(from: probe)
        } catch {
            var report = Findings()
            report.add(section.title, .failed, "\(error)", next: "run the command it names by hand; a hung tool shows there too")
            return report
        }
    }
}
