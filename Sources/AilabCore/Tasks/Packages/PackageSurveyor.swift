import FoundationEssentials

/// Takes a package survey: the autoremove simulation, the installed kernel images and the
/// running kernel, read side by side. Nothing here takes the dpkg lock.
enum PackageSurveyor {
    static func survey(_ run: TaskRun, _ commands: AptCommands) async throws -> PackageSurvey {
        async let simulationCall = run.probe(commands.simulateAutoremove)
        async let imagesCall = run.probe(commands.installedImages)
        async let unameCall = run.probe(commands.runningKernel)
        let (simulation, images, uname) = try await (simulationCall, imagesCall, unameCall)
        guard simulation.succeeded else { throw AilabError.failed(aptFailure(simulation)) }
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
            runningKernel: uname.stdout.trimmed())
    }

    /// apt's own "E:" lines say what went wrong; while it waits for the lock it names the
    /// holder on stdout ("Waiting for cache lock: … It is held by process 4242 (apt)").
    static func aptFailure(_ result: InvocationResult) -> String {
        let command = result.invocation.commandLine
        if result.timedOut { return "\(command): timed out" }
        let segments = (result.stdout + "\n" + result.stderr).split(whereSeparator: { $0 == "\n" || $0 == "\r" })
        var reasons = segments.filter { $0.hasPrefix("E:") }.map(String.init)
        if let holder = segments.last(where: { $0.contains("It is held by process") }) {
            let text = holder.firstRange(of: "Could not get lock").map { String(holder[$0.lowerBound...]) } ?? String(holder)
            reasons.insert(text.trimmed { ". ".contains($0) }, at: 0)
        }
        if reasons.isEmpty, let message = result.message { reasons = [message] }
        return "\(command): \(result.termination)" + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; "))
    }

    /// The findings every package task shows: what would go, and the guards' verdict.
    static func record(_ survey: PackageSurvey, into findings: inout Findings) {
        let names = survey.removals.map { "\($0.name) \($0.version)" }
        findings.add("autoremove simulation", .ok, names.isEmpty ? "nothing to remove"
                     : "\(names.count) package(s) would be purged: " + survey.removals.map(\.name).joined(separator: ", "))
        for check in survey.guardChecks { findings.add(check) }
        if !names.isEmpty { findings.notes.append("Removal list (from the simulation):\n" + names.map { "  " + $0 }.joined(separator: "\n")) }
        findings.set("removals", survey.removals)
        findings.set("kernels", KernelFigures(
            running: survey.runningKernel, installed: survey.installedKernels,
            removable: survey.removedKernels, remaining: survey.remainingKernels))
        findings.set("protected", survey.protectedRemovals)
        findings.measure("ailab_kernels_installed", "Versioned kernel images installed.", Double(survey.installedKernels.count))
        findings.measure("ailab_kernels_removable", "Kernel images the autoremove simulation would remove.", Double(survey.removedKernels.count))
    }

    /// Runs one confirmed apt-get step and records how it went; false stops the task.
    static func apply(_ step: PlanStep, _ name: String, _ executor: PlanExecutor, _ findings: inout Findings) async throws -> Bool {
        let result = try await executor.run(step)
        findings.add(name, result.succeeded ? .ok : .failed, result.succeeded ? "done" : aptFailure(result))
        return result.succeeded
    }

    struct KernelFigures: Encodable {
        var running: String
        var installed: [String]
        var removable: [String]
        var remaining: [String]
    }
}
