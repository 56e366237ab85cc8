import FoundationEssentials

/// upgrade's survey before it plans: the simulation, the holds, the GPU processes, /boot, and
/// the guard checks they make.
extension UpgradeTask {
    /// What the host says before an upgrade: the simulation and what the guards judge it by.
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

    func take(_ run: TaskRun, _ commands: AptCommands) async throws -> Survey {
        async let simulationCall = run.probe(commands.simulateDistUpgrade)
        async let heldCall = run.probe(Invocation("apt-mark", ["showhold"], timeout: .seconds(60)))
        async let freeCall = BootSpace.free(run)
        async let statesCall = run.probe(AptCommands.packageStates)
        let (full, held, free, states) = try await (simulationCall, heldCall, freeCall, statesCall)
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
        let kernel = try run.context.requireRunningKernel()
        let files = ["vmlinuz-", "initrd.img-", "System.map-", "config-"].map { "/boot/\($0)\(kernel)" }
        let bytes = files.compactMap { run.context.files.entry($0)?.size }.reduce(0, +)
        return Survey(
            simulation: parsed, waiting: waiting, pockets: pockets, held: held.stdout.split(whereSeparator: \.isNewline).map(String.init),
            gpuProcesses: processes, bootFree: free, runningKernelFiles: bytes,
            interrupted: try InterruptedDpkg.packages(states))
    }

    /// A simulation's outcome, logged; an apt-get that failed ends the task.
    func simulated(_ result: InvocationResult, _ invocation: Invocation, _ run: TaskRun) throws -> UpgradeSimulation {
        guard result.succeeded else { throw AilabError.failed(AptFailure.summary(result)) }
        run.log.write("simulation: \(invocation.commandLine)")
        run.log.writeBlock(result.stdout)
        return UpgradeSimulation.parse(result.stdout)
    }

    func guardChecks(_ survey: Survey) -> [Check] {
        var checks = [InterruptedDpkg.check(survey.interrupted)]
        if securityOnly { checks.append(UpgradeGuards.securityCheck(survey.simulation, survey.pockets)) }
        return checks + [
            UpgradeGuards.protectedCheck(survey.simulation),
            UpgradeGuards.driverCheck(survey.simulation, allowed: allowDriverUpgrade, gpuProcesses: survey.gpuProcesses),
            UpgradeGuards.bootCheck(survey.simulation, freeBytes: survey.bootFree, runningKernelFiles: survey.runningKernelFiles),
        ]
    }

    func record(_ survey: Survey, _ checks: [Check], files: HostFiles, into findings: inout Findings) {
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
        let reboot = files.rebootFlag
        findings.set("rebootRequired", reboot.required)
        findings.set("rebootPackages", reboot.packages)
        findings.set("servicesToRestart", [String]())
        findings.measure("ailab_upgrades_pending", "Packages the dist-upgrade simulation would upgrade or install.", Double(pending))
    }
}
