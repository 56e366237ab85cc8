import FoundationEssentials

/// Takes a package survey: the autoremove simulation, the installed kernel images and the
/// running kernel, read side by side. Nothing here takes the dpkg lock.
enum PackageSurveyor {
    static func survey(_ run: TaskRun, _ commands: AptCommands) async throws -> PackageSurvey {
        async let simulationCall = run.probe(commands.simulateAutoremove)
        async let imagesCall = run.probe(commands.installedImages)
        async let unameCall = run.probe(commands.runningKernel)
        async let statesCall = run.probe(AptCommands.packageStates)
        let (simulation, images, uname, states) = try await (simulationCall, imagesCall, unameCall, statesCall)
        guard simulation.succeeded else { throw AilabError.failed(AptFailure.summary(simulation)) }
        run.log.write("simulation: \(commands.simulateAutoremove.commandLine)")
        run.log.writeBlock(simulation.stdout)
        // dpkg-query exits 1 when nothing matches: no kernel image installed at all.
        guard images.succeeded || images.stderr.contains("no packages found") else {
            throw AilabError.failed(images.failureSummary)
        }
        guard uname.succeeded else { throw AilabError.failed(uname.failureSummary) }
        return PackageSurvey(
            simulation: simulation.stdout, removals: AptSimulation.removals(simulation.stdout),
            installedImages: try DpkgQuery.parse(images.succeeded ? images.stdout : ""),
            runningKernel: uname.stdout.trimmed(), interrupted: try InterruptedDpkg.packages(states))
    }

    /// The findings every package task shows: what would go, and the guards' verdict.
    static func record(_ survey: PackageSurvey, into findings: inout Findings) {
        let names = survey.removals.map { "\($0.name) \($0.version)" }
        findings.add(
            "autoremove simulation", .ok,
            names.isEmpty
                ? "nothing to remove"
                : "\(names.count) package(s) would be purged: " + survey.removals.map(\.name).joined(separator: ", "))
        for check in survey.guardChecks { findings.add(check) }
        if !names.isEmpty {
            findings.notes.append("Removal list (from the simulation):\n" + names.map { "  " + $0 }.joined(separator: "\n"))
        }
        findings.set("removals", survey.removals)
        findings.set(
            "kernels",
            KernelFigures(
                running: survey.runningKernel, installed: survey.installedKernels,
                removable: survey.removedKernels, remaining: survey.remainingKernels))
        findings.set("protected", survey.protectedRemovals)
        findings.measure("ailab_kernels_installed", "Versioned kernel images installed.", Double(survey.installedKernels.count))
        findings.measure(
            "ailab_kernels_removable", "Kernel images the autoremove simulation would remove.", Double(survey.removedKernels.count))
    }

    /// An execute plans on fresh lists: apt-get update first, through the gate. A dry run leaves
    /// the lists alone and says how old they are. False when the update failed.
    static func freshLists(_ run: TaskRun, _ commands: AptCommands, _ findings: inout Findings) async throws -> Bool {
        guard let refresh = try await run.gate.prepare(commands.update) else {
            findings.add(try await PackageLists.ageCheck(run, commands))
            return true
        }
        findings.add(
            "apt-get update", refresh.succeeded ? .ok : .failed,
            refresh.succeeded ? "package lists refreshed before planning" : AptFailure.summary(refresh),
            next: "fix the source or network it names (sudo apt-get update shows it), then run again")
        return refresh.succeeded
    }

    /// Runs one confirmed apt-get step and records how it went; false stops the task.
    static func apply(_ step: PlanStep, _ name: String, _ executor: PlanExecutor, _ findings: inout Findings) async throws -> Bool {
        let result = try await executor.run(step)
        let lockHeld = (result.stdout + result.stderr).contains("It is held by process")
        findings.add(
            name, result.succeeded ? .ok : .failed, result.succeeded ? "done" : AptFailure.summary(result),
            next: lockHeld
                ? "wait for the process it names to finish (or raise --lock-timeout), then run the task again"
                : "fix what dpkg names, finish with sudo dpkg --configure -a, then run the task again")
        if executor.wasInterrupted {
            findings.add(
                "interrupted", .failed,
                "a signal arrived while \(name) ran; it was left to finish "
                    + "(\(result.succeeded ? "it succeeded" : "it failed")), and no further step was started",
                next: "run the task again to finish the rest")
            return false
        }
        return result.succeeded
    }

    struct KernelFigures: Encodable {
        var running: String
        var installed: [String]
        var removable: [String]
        var remaining: [String]
    }
}
