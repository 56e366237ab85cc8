/// Whether the host needs a reboot, and why: Ubuntu's flag, a kernel newer than the running one,
/// livepatch's kernel-upgrade-required, or an NVIDIA driver whose library no longer matches the loaded module.
package enum PendingReboot {
    /// needrestart's verdict when there is one (it knows which kernel boots next), else the newest
    /// installed kernel image against the running one.
    package static func kernelOutdated(restart: NeedRestart?, newest: String?, running: String?) -> Bool {
        restart.map(\.kernelOutdated) ?? (newest != nil && running != nil && newest != running)
    }

    /// Each reason in words; none when no reboot is pending. The tools are asked side by side.
    static func reasons(_ run: TaskRun) async throws -> [String] {
        async let restartCall = ask(run, "needrestart", ["-b", "-k"], when: run.context.isRoot, seconds: 60)
        async let imagesCall = ask(run, "dpkg-query", ["-W", "-f", DpkgQuery.format, "linux-image-*"])
        async let livepatchCall = ask(run, "canonical-livepatch", ["status", "--format", "json"])
        async let listedCall = ask(run, "nvidia-smi", ["-L"])
        let (restartResult, images, livepatch, listed) = try await (restartCall, imagesCall, livepatchCall, listedCall)

        var reasons: [String] = []
        let files = run.context.files
        let flag = files.rebootFlag
        if flag.required {
            reasons.append(
                "/run/reboot-required" + (flag.packages.isEmpty ? "" : " (for " + flag.packages.joined(separator: ", ") + ")"))
        }
        let restart = restartResult.flatMap { result in
            let parsed = NeedRestart.parse(result.stdout)
            return result.succeeded && parsed.kernelStatus != nil ? parsed : nil
        }
        let newest = images.flatMap { NextBootDriver.newestKernel((try? DpkgQuery.parse($0.stdout)) ?? []) }
        let running = run.context.runningKernel
        if kernelOutdated(restart: restart, newest: newest, running: running) {
            reasons.append("kernel \(restart?.expectedKernel ?? newest ?? "?") is installed, \(running ?? "?") runs")
        }
        // Livepatch can patch this kernel no further: a fact that makes the reboot pending, for
        // the window to take, not a failure.
        if let livepatch, LivepatchStatus.runningState(livepatch.stdout) == "kernel-upgrade-required" {
            reasons.append("canonical-livepatch says kernel-upgrade-required: it can patch the running kernel no further")
        }
        if let listed, !listed.succeeded {
            let output = listed.stdout + "\n" + listed.stderr
            if DriverFailure.classify(output) == .versionMismatch {
                let module = files.read("/proc/driver/nvidia/version").flatMap(DriverFailure.kernelModuleVersion)
                reasons.append(
                    "NVIDIA kernel module \(module ?? "?") does not match its library \(DriverFailure.libraryVersion(output) ?? "?")")
            }
        }
        return reasons
    }

    /// A read-only tool's answer; nil when it is not installed (or `when` says not to ask).
    private static func ask(_ run: TaskRun, _ tool: String, _ arguments: [String], when: Bool = true, seconds: Int64 = 30)
        async throws -> InvocationResult?
    {
        guard when, run.isInstalled(tool) else { return nil }
        return try await run.probe(Invocation(tool, arguments, timeout: .seconds(seconds)))
    }
}
