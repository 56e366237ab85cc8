/// Whether the host needs a reboot, and why: Ubuntu's flag, a kernel newer than the running one,
/// livepatch's kernel-upgrade-required, or an NVIDIA driver whose library no longer matches the loaded module.
package enum PendingReboot {
    /// needrestart's verdict when there is one (it knows which kernel boots next), else the newest
    /// installed kernel image against the running one.
    package static func kernelOutdated(restart: NeedRestart?, newest: String?, running: String?) -> Bool {
        restart.map(\.kernelOutdated) ?? (newest != nil && running != nil && newest != running)
    }

    /// Each reason in words; none when no reboot is pending.
    static func reasons(_ run: TaskRun) async throws -> [String] {
        var reasons: [String] = []
        let files = run.context.files
        let flag = files.rebootFlag
        if flag.required {
            reasons.append(
                "/run/reboot-required" + (flag.packages.isEmpty ? "" : " (for " + flag.packages.joined(separator: ", ") + ")"))
        }
        var restart: NeedRestart?
        if run.isInstalled("needrestart"), run.context.isRoot {
            let result = try await run.probe(Invocation("needrestart", ["-b", "-k"], timeout: .seconds(60)))
            let parsed = NeedRestart.parse(result.stdout)
            if result.succeeded, parsed.kernelStatus != nil { restart = parsed }
        }
        var newest: String?
        if run.isInstalled("dpkg-query") {
            let images = try await run.probe(Invocation("dpkg-query", ["-W", "-f", DpkgQuery.format, "linux-image-*"]))
            newest = NextBootDriver.newestKernel((try? DpkgQuery.parse(images.stdout)) ?? [])
        }
        let running = run.context.runningKernel
        if kernelOutdated(restart: restart, newest: newest, running: running) {
            reasons.append("kernel \(restart?.expectedKernel ?? newest ?? "?") is installed, \(running ?? "?") runs")
        }
        // Livepatch can patch this kernel no further: a fact that makes the reboot pending, for
        // the window to take, not a failure.
        if run.isInstalled("canonical-livepatch") {
            let status = try await run.probe(Invocation("canonical-livepatch", ["status", "--format", "json"], timeout: .seconds(30)))
            if LivepatchStatus.runningState(status.stdout) == "kernel-upgrade-required" {
                reasons.append("canonical-livepatch says kernel-upgrade-required: it can patch the running kernel no further")
            }
        }
        if run.isInstalled("nvidia-smi") {
            let listed = try await run.probe(Invocation("nvidia-smi", ["-L"], timeout: .seconds(30)))
            let output = listed.stdout + "\n" + listed.stderr
            if !listed.succeeded, DriverFailure.classify(output) == .versionMismatch {
                let module = files.read("/proc/driver/nvidia/version").flatMap(DriverFailure.kernelModuleVersion)
                reasons.append(
                    "NVIDIA kernel module \(module ?? "?") does not match its library \(DriverFailure.libraryVersion(output) ?? "?")")
            }
        }
        return reasons
    }
}
