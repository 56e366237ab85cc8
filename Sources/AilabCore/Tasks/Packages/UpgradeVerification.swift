import FoundationEssentials

/// What upgrade checks after the packages changed.
extension UpgradeTask {
    /// After the upgrade: the next boot's NVIDIA module, the reboot, the services, /boot.
    func verify(_ run: TaskRun, before: Survey, into findings: inout Findings) async throws {
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
        let (flagged, packages) = files.rebootFlag
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
