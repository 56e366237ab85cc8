import FoundationEssentials

/// kernel-cleanup: old kernel images through APT's autoremove, never below two kernels and
/// never the running one, with /boot space before and after and a review list for the operator.
package struct KernelCleanupTask: PackageCleanupTask {
    package let name = TaskCatalog.kernelCleanup.name
    package let mode: RunMode?
    package let lockTimeout: Int

    package init(mode: RunMode, lockTimeout: Int) {
        self.mode = mode
        self.lockTimeout = lockTimeout
    }

    package func run(_ run: TaskRun) async throws -> Findings {
        var findings = Findings()
        let commands = AptCommands(lockTimeout: lockTimeout)
        async let surveyCall = PackageSurvey.take(run, commands)
        async let bootCall = BootSpace.free(run)
        async let reviewCall = reviewList(run)
        let (survey, bootBefore, review) = try await (surveyCall, bootCall, reviewCall)
        survey.record(into: &findings)
        findings.add("/boot free", .ok, bootBefore.map(ByteCount.format) ?? "unknown (df /boot failed)")
        findings.notes.append(review)

        let autoremove = commands.autoremove(survey.removals)
        let plan = Plan([autoremove])
        findings.plan = plan.entries
        guard survey.allowed, let executor = try run.gate.open(plan) else { return findings }
        guard try await AptStep.apply(autoremove, "autoremove", executor, &findings) else { return findings }

        // Verify from dpkg's own state that the guard still holds after the removal.
        let after = try await PackageSurvey.take(run, commands)
        let runningBefore = survey.installedKernels.contains { PackageRules.kernelRelease(ofImage: $0) == survey.runningKernel }
        let runningAfter = after.installedKernels.contains { PackageRules.kernelRelease(ofImage: $0) == after.runningKernel }
        let kept = after.installedKernels.count >= min(2, survey.installedKernels.count) && (runningAfter || !runningBefore)
        findings.add(
            "kernels after", kept ? .ok : .failed,
            "\(after.installedKernels.count) kernel images installed: \(after.installedKernels.joined(separator: ", "))",
            next: "install a kernel before the next reboot: sudo apt-get install linux-image-generic")
        let bootAfter = try await BootSpace.free(run)
        var detail = bootAfter.map(ByteCount.format) ?? "unknown"
        if let bootBefore, let bootAfter {
            detail +=
                " (was \(ByteCount.format(bootBefore))"
                + (bootAfter > bootBefore ? ", \(ByteCount.format(bootAfter - bootBefore)) freed)" : ")")
        }
        findings.add("/boot free after", .ok, detail)
        findings.set("bootFreeBytes", ["before": bootBefore, "after": bootAfter])
        return findings
    }

    /// What the operator should look at before the next reboot: read-only, never acted on.
    private func reviewList(_ run: TaskRun) async throws -> String {
        var lines = ["Review before the next reboot:"]
        if run.isInstalled("dkms") {
            let dkms = try await run.probe(DKMSStatus.invocation)
            let modules = DKMSStatus.parse(dkms.stdout)
            lines.append(
                "  DKMS modules: "
                    + (modules.isEmpty
                        ? "none"
                        : modules.map(\.summary).joined(separator: "; ")))
        } else {
            lines.append("  DKMS: not installed")
        }
        let nvidia = try await run.probe(AptCommands(lockTimeout: lockTimeout).nvidiaPackages)
        let drivers = ((try? DpkgQuery.parse(nvidia.stdout)) ?? []).filter(\.isInstalled)
        lines.append(
            "  NVIDIA driver packages: " + (drivers.isEmpty ? "none" : drivers.map { "\($0.name) \($0.version)" }.joined(separator: ", ")))
        if run.isInstalled("mokutil") {
            let secureBoot = try await run.probe(Invocation("mokutil", ["--sb-state"], timeout: .seconds(30)))
            lines.append("  Secure Boot: " + (secureBoot.message ?? "unknown"))
        } else {
            lines.append("  Secure Boot: mokutil is not installed")
        }
        return lines.joined(separator: "\n")
    }
}
