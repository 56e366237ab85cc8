/// apt-cleanup: unused packages and stale downloaded archives, behind the package guards.
package struct AptCleanupTask: PackageCleanupTask {
    package let name = TaskCatalog.aptCleanup.name
    package let mode: RunMode?
    package let lockTimeout: Int

    package init(mode: RunMode, lockTimeout: Int) {
        self.mode = mode
        self.lockTimeout = lockTimeout
    }

    package func run(_ run: TaskRun) async throws -> Findings {
        var findings = Findings()
        let commands = AptCommands(lockTimeout: lockTimeout)
        guard try await PackageLists.refresh(run, commands, &findings) else { return findings }
        let survey = try await PackageSurvey.take(run, commands)
        survey.record(into: &findings)
        let clean = try await run.probe(commands.simulateAutoclean)
        let archives = AptSimulation.cleanedArchives(clean.stdout)
        findings.add(
            "autoclean simulation", clean.succeeded ? .ok : .failed,
            clean.succeeded
                ? (archives.isEmpty ? "no stale package files" : "\(archives.count) stale package file(s) would be deleted")
                : AptFailure.summary(clean),
            next: "run sudo apt-get -s autoclean by hand to see apt's error")
        findings.set("autocleanArchives", archives)

        let autoremove = commands.autoremove(survey.removals)
        let plan = Plan([autoremove, commands.autoclean])
        findings.plan = plan.entries
        guard survey.allowed, clean.succeeded, let executor = try run.gate.open(plan) else { return findings }
        guard try await AptStep.apply(autoremove, "autoremove", executor, &findings) else { return findings }
        _ = try await AptStep.apply(commands.autoclean, "autoclean", executor, &findings)
        return findings
    }
}
