/// What the simulation would do to the host, and whether the guards allow it.
package struct PackageSurvey: Sendable {
    package var simulation: String
    package var removals: [PackageRemoval]
    package var installedImages: [InstalledPackage]
    package var runningKernel: String
    /// Packages an interrupted dpkg left half-way: no package task plans over them.
    package var interrupted: [InstalledPackage] = []

    /// Versioned images whose status is installed.
    package var installedKernels: [String] {
        installedImages.filter { $0.isInstalled && PackageRules.kernelRelease(ofImage: $0.name) != nil }.map(\.name)
    }

    package var removedKernels: [String] {
        removals.map(\.name).filter { PackageRules.kernelRelease(ofImage: $0) != nil }
    }

    package var remainingKernels: [String] {
        installedKernels.filter { !removedKernels.contains($0) }
    }

    package var protectedRemovals: [String] {
        removals.map(\.name).filter(PackageRules.isProtected)
    }

    /// The guard checks: kernels, running kernel, protected packages. Any failed one refuses the run.
    package var guardChecks: [Check] {
        var checks = [InterruptedDpkg.check(interrupted)]
        let removed = removedKernels
        if removed.isEmpty {
            checks.append(Check("kernel guard", .ok, "no kernel image would be removed; \(installedKernels.count) installed"))
        } else if remainingKernels.count < 2 {
            checks.append(
                Check(
                    "kernel guard", .failed,
                    "refused: only \(remainingKernels.count) versioned kernel image(s) would remain "
                        + "(\(remainingKernels.joined(separator: ", ")), at least 2 must stay installed",
                    next: "install a second kernel first, or keep one with sudo apt-mark manual PACKAGE"))
        } else {
            checks.append(
                Check(
                    "kernel guard", .ok,
                    "\(remainingKernels.count) kernel images remain: \(remainingKernels.joined(separator: ", "))"))
        }
        let running = removed.filter { PackageRules.kernelRelease(ofImage: $0) == runningKernel }
        let packaged = installedKernels.contains { PackageRules.kernelRelease(ofImage: $0) == runningKernel }
        checks.append(
            running.isEmpty
                ? Check(
                    "running kernel", .ok,
                    packaged
                        ? "\(runningKernel) stays installed"
                        : "\(runningKernel) is not an installed package here (a custom or container kernel); nothing to keep")
                : Check(
                    "running kernel", .failed, "refused: the running kernel's image would be removed: \(running.joined(separator: ", "))",
                    next: "keep it: sudo apt-mark manual \(running.joined(separator: " "))"))
        let protected = protectedRemovals
        checks.append(
            protected.isEmpty
                ? Check("protected packages", .ok, "no GPU, CUDA, container or virtualisation package would be removed")
                : Check(
                    "protected packages", .failed,
                    "refused: would remove \(protected.joined(separator: ", "))",
                    next: "review them and keep them: sudo apt-mark manual \(protected.joined(separator: " "))"))
        return checks
    }

    package var allowed: Bool { !guardChecks.contains { $0.status == .failed } }

    /// Takes the survey: the autoremove simulation, the installed kernel images and the package
    /// states, read side by side, and the running kernel. Nothing here takes the dpkg lock.
    static func take(_ run: TaskRun, _ commands: AptCommands) async throws -> PackageSurvey {
        async let simulationCall = run.probe(commands.simulateAutoremove)
        async let imagesCall = run.probe(commands.installedImages)
        async let statesCall = run.probe(AptCommands.packageStates)
        let (simulation, images, states) = try await (simulationCall, imagesCall, statesCall)
        guard simulation.succeeded else { throw AilabError.failed(AptFailure.summary(simulation)) }
        run.log.write("simulation: \(commands.simulateAutoremove.commandLine)")
        run.log.writeBlock(simulation.stdout)
        // dpkg-query exits 1 when nothing matches: no kernel image installed at all.
        guard images.succeeded || images.stderr.contains("no packages found") else {
            throw AilabError.failed(images.failureSummary)
        }
        return PackageSurvey(
            simulation: simulation.stdout, removals: AptSimulation.removals(simulation.stdout),
            installedImages: try DpkgQuery.parse(images.succeeded ? images.stdout : ""),
            runningKernel: try run.context.requireRunningKernel(), interrupted: try InterruptedDpkg.packages(states))
    }

    /// The findings every package task shows: what would go, and the guards' verdict.
    func record(into findings: inout Findings) {
        let names = removals.map { "\($0.name) \($0.version)" }
        findings.add(
            "autoremove simulation", .ok,
            names.isEmpty
                ? "nothing to remove"
                : "\(names.count) package(s) would be purged: " + removals.map(\.name).joined(separator: ", "))
        for check in guardChecks { findings.add(check) }
        if !names.isEmpty {
            findings.notes.append("Removal list (from the simulation):\n" + names.map { "  " + $0 }.joined(separator: "\n"))
        }
        findings.set("removals", removals)
        findings.set(
            "kernels",
            KernelFigures(
                running: runningKernel, installed: installedKernels,
                removable: removedKernels, remaining: remainingKernels))
        findings.set("protected", protectedRemovals)
        findings.measure("ailab_kernels_installed", "Versioned kernel images installed.", Double(installedKernels.count))
        findings.measure(
            "ailab_kernels_removable", "Kernel images the autoremove simulation would remove.", Double(removedKernels.count))
    }

    struct KernelFigures: Encodable {
        var running: String
        var installed: [String]
        var removable: [String]
        var remaining: [String]
    }
}
