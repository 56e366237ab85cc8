import FoundationEssentials

/// upgrade: `apt-get dist-upgrade` behind guards a GPU host needs. The simulation is judged in a
/// dry run and an execute alike: a protected package removed, an NVIDIA driver upgraded under the
/// loaded module (unless allowed), a /boot too small for a new kernel and packages an interrupted
/// dpkg left half-way each refuse (exit 1). An execute refreshes the lists first and plans on
/// them; after the upgrade it checks the next boot's NVIDIA module, the reboot and the services
/// to restart. `--security` upgrades only the packages whose candidate comes from a security pocket.
package struct UpgradeTask: MaintenanceTask {
    package let name = TaskCatalog.upgrade.name
    package let mode: RunMode?
    package let lockTimeout: Int
    package let allowDriverUpgrade: Bool
    package let securityOnly: Bool
    /// Refuse when an old version cannot be secured for the rollback point.
    package let requireRollback: Bool
    package let keepPoints: Int
    package let keepBytes: Int

    package init(
        mode: RunMode, lockTimeout: Int, allowDriverUpgrade: Bool, securityOnly: Bool = false, requireRollback: Bool = false,
        keepPoints: Int, keepBytes: Int
    ) {
        self.mode = mode
        self.lockTimeout = lockTimeout
        self.allowDriverUpgrade = allowDriverUpgrade
        self.securityOnly = securityOnly
        self.requireRollback = requireRollback
        self.keepPoints = keepPoints
        self.keepBytes = keepBytes
    }

    package func run(_ run: TaskRun) async throws -> Findings {
        var findings = Findings()
        let commands = AptCommands(lockTimeout: lockTimeout)
        guard try await PackageLists.refresh(run, commands, &findings) else { return findings }
        let survey = try await take(run, commands)
        let checks = guardChecks(survey)
        record(survey, checks, files: run.context.files, into: &findings)
        let simulation = survey.simulation
        let pending = !simulation.upgrades.isEmpty || !simulation.installs.isEmpty || !simulation.removals.isEmpty
        let step = securityOnly ? commands.securityUpgrade(simulation.upgrades) : commands.distUpgrade
        let rollback = pending ? try await rollbackPoint(simulation, held: survey.held, run, &findings) : nil
        let plan = Plan(
            (rollback.map { $0.steps + $0.pruneSteps } ?? []) + (pending ? [step] : []) + (rollback.map { [$0.writer.discard] } ?? []))
        findings.plan = plan.entries
        let allowed = !findings.checks.contains { $0.status == .failed }
        guard allowed, let executor = try run.gate.open(plan) else { return findings }
        if let rollback {
            let point = try await rollback.record(executor, run, &findings)
            let missing = point.packages.filter { $0.old != nil && $0.deb == nil }.map(\.label)
            findings.add(
                "rollback point saved", point.complete ? .ok : requireRollback ? .failed : .warning,
                "\(RollbackPoint.folder(run.context.environment))/\(point.id): "
                    + (point.complete
                        ? "complete (\(point.packages.count) package(s), /etc archived)"
                        : "incomplete" + (missing.isEmpty ? "" : "; not secured: " + missing.joined(separator: ", "))
                            + (point.etcArchive == nil ? "; /etc not archived" : "")),
                next: requireRollback
                    ? "nothing was upgraded; secure the old versions, then run again" : "this upgrade cannot be fully rolled back")
            if requireRollback && !point.complete { return findings }
        }
        guard try await AptStep.apply(step, securityOnly ? "security upgrade" : "dist-upgrade", executor, &findings) else {
            return findings
        }
        try await verify(run, before: survey, into: &findings)
        return findings
    }

    /// The rollback point's survey, its check (refused under --require-rollback when an old
    /// version has nowhere to come from), and its id in the report.
    private func rollbackPoint(_ simulation: UpgradeSimulation, held: [String], _ run: TaskRun, _ findings: inout Findings) async throws
        -> RollbackRecorder
    {
        let scratch = mode?.isDryRun == false ? try ScratchFolder(run.context) : nil
        let recorder = try await RollbackRecorder.survey(
            simulation, held: held, keepPoints: keepPoints, keepBytes: keepBytes, scratch: scratch, run)
        var check = recorder.check
        if requireRollback && !recorder.unsecurable.isEmpty {
            check = Check(check.name, .failed, check.detail + " (--require-rollback)", next: check.next)
        }
        findings.add(check)
        findings.set("rollbackPoint", recorder.point.id)
        return recorder
    }
}
