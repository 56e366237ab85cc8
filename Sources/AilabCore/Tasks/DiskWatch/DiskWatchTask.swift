/// disk-watch: every real filesystem against the threshold, in blocks and inodes. Read-only.
package struct DiskWatchTask: MaintenanceTask {
    package let name = TaskCatalog.diskWatch.name
    package let threshold: Int

    package init(threshold: Int) {
        self.threshold = threshold
    }

    package func run(_ run: TaskRun) async throws -> Findings {
        var findings = Findings()
        findings.warningsFail = true
        findings.set("threshold", threshold)
        let usage: DiskProbe.Usage
        do {
            usage = try await DiskProbe.read(run, timeout: .seconds(60))
        } catch let error as ParseError {
            findings.add("df", .failed, error.description, next: "run df -P -T by hand to see what it prints")
            return findings
        } catch let error as AilabError {
            findings.add("df", .failed, error.message, next: "run df -P -T by hand; a hung network mount shows there too")
            return findings
        }
        let states = DiskAssessment(threshold: threshold)
            .assess(blocks: usage.blocks, inodes: usage.inodes)
        for state in states {
            findings.add(DiskAssessment.check(state, threshold: threshold))
        }
        if states.isEmpty {
            findings.add("filesystems", .warning, "df listed no filesystem to check", next: "run df -P -T by hand to see what it lists")
        }
        findings.set("filesystems", states)
        findings.metrics += DiskAssessment.metrics(states)
        return findings
    }
}
