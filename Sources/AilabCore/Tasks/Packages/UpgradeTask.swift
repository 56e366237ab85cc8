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

    struct Survey {
        var simulation: UpgradeSimulation
        /// With --security: the upgrades left waiting because they are not security fixes.
        var waiting: [PackageChange] = []
        /// The host's own security pockets; nil when os-release names no distribution and codename.
        var pockets: SecurityPockets?
        var held: [String]
        var gpuProcesses: [String]
        var bootFree: Int64?
        var runningKernelFiles: Int64
        var interrupted: [InstalledPackage]
    }

    package func run(_ run: TaskRun) async throws -> Findings {
        var findings = Findings()
        let commands = AptCommands(lockTimeout: lockTimeout)
        guard try await PackageSurveyor.freshLists(run, commands, &findings) else { return findings }
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
        guard try await PackageSurveyor.apply(step, securityOnly ? "security upgrade" : "dist-upgrade", executor, &findings) else {
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

    private func take(_ run: TaskRun, _ commands: AptCommands) async throws -> Survey {
        async let simulationCall = run.probe(commands.simulateDistUpgrade)
        async let heldCall = run.probe(Invocation("apt-mark", ["showhold"], timeout: .seconds(60)))
        async let unameCall = run.probe(commands.runningKernel)
        async let freeCall = BootSpace.free(run)
        async let statesCall = run.probe(AptCommands.packageStates)
        let (full, held, uname, free, states) = try await (simulationCall, heldCall, unameCall, freeCall, statesCall)
        var parsed = try simulated(full, commands.simulateDistUpgrade, run)
        var waiting: [PackageChange] = []
        let pockets = SecurityPockets.of(run.context.files)
        if securityOnly {
            waiting = parsed.upgrades.filter { pockets?.contains($0) != true }
            let fixes = parsed.upgrades.filter { pockets?.contains($0) == true }
            let narrowed = commands.simulateSecurityUpgrade(fixes)
            parsed = fixes.isEmpty ? UpgradeSimulation() : try simulated(try await run.probe(narrowed), narrowed, run)
        }
        var processes: [String] = []
        if !UpgradeGuards.driverUpgrades(parsed).isEmpty, run.isInstalled("nvidia-smi") {
            let apps = try await run.probe(
                Invocation(
                    "nvidia-smi",
                    [
                        "--query-compute-apps=pid,process_name,used_memory",
                        "--format=csv,noheader",
                    ], timeout: .seconds(30)))
            processes = apps.stdout.split(whereSeparator: \.isNewline).map { $0.trimmed(where: \.isBlank) }.filter { !$0.isEmpty }
        }
        let kernel = uname.stdout.trimmed()
        let files = ["vmlinuz-", "initrd.img-", "System.map-", "config-"].map { "/boot/\($0)\(kernel)" }
        let bytes = files.compactMap { path in
            (try? FileManager.default.attributesOfItem(atPath: run.context.files.path(path))[.size] as? Int64) ?? nil
        }.reduce(0, +)
        return Survey(
            simulation: parsed, waiting: waiting, pockets: pockets, held: held.stdout.split(whereSeparator: \.isNewline).map(String.init),
            gpuProcesses: processes, bootFree: free, runningKernelFiles: bytes,
            interrupted: try InterruptedDpkg.packages(states))
    }

    /// A simulation's outcome, logged; an apt-get that failed ends the task.
    private func simulated(_ result: InvocationResult, _ invocation: Invocation, _ run: TaskRun) throws -> UpgradeSimulation {
        guard result.succeeded else { throw AilabError.failed(AptFailure.summary(result)) }
        run.log.write("simulation: \(invocation.commandLine)")
        run.log.writeBlock(result.stdout)
        return UpgradeSimulation.parse(result.stdout)
    }

    private func guardChecks(_ survey: Survey) -> [Check] {
        var checks = [InterruptedDpkg.check(survey.interrupted)]
        if securityOnly { checks.append(UpgradeGuards.securityCheck(survey.simulation, survey.pockets)) }
        return checks + [
            UpgradeGuards.protectedCheck(survey.simulation),
            UpgradeGuards.driverCheck(survey.simulation, allowed: allowDriverUpgrade, gpuProcesses: survey.gpuProcesses),
            UpgradeGuards.bootCheck(survey.simulation, freeBytes: survey.bootFree, runningKernelFiles: survey.runningKernelFiles),
        ]
    }

    private func record(_ survey: Survey, _ checks: [Check], files: HostFiles, into findings: inout Findings) {
        let simulation = survey.simulation
        let pending = simulation.upgrades.count + simulation.installs.count
        findings.add(
            "simulation", .ok,
            "\(simulation.upgrades.count) upgrade(s), \(simulation.installs.count) new, "
                + "\(simulation.removals.count) removal(s), \(simulation.keptBack.count) kept back, \(survey.held.count) held"
                + (securityOnly ? "; security fixes only, \(survey.waiting.count) other upgrade(s) wait" : ""))
        for check in checks { findings.add(check) }
        var lists: [String] = []
        if !simulation.upgrades.isEmpty {
            lists.append(
                "Upgrades:\n"
                    + simulation.upgrades.map { "  \($0.name) \($0.from ?? "") → \($0.to) (\($0.origin))" }
                    .joined(separator: "\n"))
        }
        if !simulation.installs.isEmpty {
            lists.append(
                "New:\n" + simulation.installs.map { "  \($0.name) \($0.to) (\($0.origin))" }.joined(separator: "\n"))
        }
        if !simulation.removals.isEmpty {
            lists.append("Removals:\n" + simulation.removals.map { "  \($0.name) \($0.version)" }.joined(separator: "\n"))
        }
        if !simulation.keptBack.isEmpty { lists.append("Kept back: " + simulation.keptBack.joined(separator: ", ")) }
        if !survey.held.isEmpty { lists.append("Held (apt-mark showhold): " + survey.held.joined(separator: ", ")) }
        if securityOnly { lists += UpgradeGuards.lookAlikes(survey.waiting, survey.pockets) }
        findings.notes += lists
        findings.set("upgrades", simulation.upgrades)
        findings.set("installs", simulation.installs)
        findings.set("removals", simulation.removals)
        findings.set("keptBack", simulation.keptBack)
        findings.set("held", survey.held)
        findings.set("securityOnly", securityOnly)
        findings.set("waiting", survey.waiting)
        findings.set("driverPackages", UpgradeGuards.driverUpgrades(simulation).map(\.name))
        findings.set("gpuProcesses", survey.gpuProcesses)
        // As the host stands now; an execute replaces them with the state after the upgrade.
        let reboot = HostFacts.rebootState(files)
        findings.set("rebootRequired", reboot.required)
        findings.set("rebootPackages", reboot.packages)
        findings.set("servicesToRestart", [String]())
        findings.measure("ailab_upgrades_pending", "Packages the dist-upgrade simulation would upgrade or install.", Double(pending))
    }

    /// After the upgrade: the next boot's NVIDIA module, the reboot, the services, /boot.
    private func verify(_ run: TaskRun, before: Survey, into findings: inout Findings) async throws {
        let files = run.context.files
        let commands = AptCommands(lockTimeout: lockTimeout)
        async let driversCall = run.probe(commands.nvidiaPackages)
        async let imagesCall = run.probe(commands.installedImages)
        async let dkmsCall = run.isInstalled("dkms") ? run.probe(DKMSStatus.invocation) : nil
        let (drivers, images, dkmsResult) = try await (driversCall, imagesCall, dkmsCall)
        let nvidia = ((try? DpkgQuery.parse(drivers.stdout)) ?? []).filter(\.isInstalled)
        let newest = NextBootDriver.newestKernel((try? DpkgQuery.parse(images.stdout)) ?? [])
        if !nvidia.isEmpty || run.isInstalled("nvidia-smi") {
            let dkms = dkmsResult?.stdout ?? ""
            if let kernel = newest {
                let check = NextBootDriver.check(kernel: kernel, dkms: DKMSStatus.parse(dkms), modulePackages: nvidia)
                findings.add(
                    check.status == .ok
                        ? check
                        : Check(
                            "next boot", .failed, "do not reboot: \(kernel) has no NVIDIA module",
                            next: "build it (sudo dkms autoinstall -k \(kernel)) or install linux-modules-nvidia-*-\(kernel)"))
            }
        }
        let (flagged, packages) = HostFacts.rebootState(files)
        // Debian writes no /run/reboot-required: a newer kernel than the running one asks too.
        let running = files.read("/proc/sys/kernel/osrelease")?.trimmed()
        let newerKernel = newest.flatMap { newest in running.map { newest != $0 } } ?? false
        var required = flagged || newerKernel
        if allowDriverUpgrade && !UpgradeGuards.driverUpgrades(before.simulation).isEmpty { required = true }
        findings.add(
            "reboot", required ? .warning : .ok,
            required
                ? "reboot required" + (packages.isEmpty ? "" : " by " + packages.joined(separator: ", "))
                    + (newerKernel ? " (running \(running ?? "?"), newest installed \(newest ?? "?"))" : "")
                : "no reboot required", next: "drain the host and reboot it when its jobs allow")
        findings.set("rebootRequired", required)
        findings.set("rebootPackages", packages)
        findings.measure("ailab_reboot_required", "Whether the host needs a reboot (1) or not (0).", required ? 1 : 0)
        var services: [String] = []
        if run.isInstalled("needrestart") {
            let batch = try await run.probe(Invocation("needrestart", ["-b"], timeout: .seconds(120)))
            services = NeedRestart.parse(batch.stdout).services
            findings.add(
                "services", services.isEmpty ? .ok : .warning,
                services.isEmpty ? "no service runs outdated code" : "to restart: " + services.joined(separator: ", "),
                next: RestartAdvice.next(services: services, containers: []))
        }
        findings.set("servicesToRestart", services)
        let after = try await BootSpace.free(run)
        findings.add(
            "/boot free", .ok, "before \(before.bootFree.map(ByteCount.format) ?? "?"), after \(after.map(ByteCount.format) ?? "?")")
    }
}
