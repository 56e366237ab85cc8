import FoundationEssentials

/// NVIDIA GPUs: the driver's state, each GPU from one `--query-gpu` call, Xid errors of this
/// boot, the GPUs on the PCI bus against those the driver knows, and whether the next boot has
/// an NVIDIA module. The probes run side by side.
struct GPUSection: HealthSection {
    let title = "gpu"

    func findings(from probe: HealthProbe) async throws -> Findings {
        var findings = Findings()
        let onBus = PCIInventory.nvidiaGPUs(probe.files)
        guard probe.has("nvidia-smi") else {
            if onBus.isEmpty {
                findings.add("nvidia", .absent, "nvidia-smi is not installed (no NVIDIA driver)")
            } else {
                findings.add(
                    "nvidia", .failed, "\(onBus.count) NVIDIA GPU(s) on the PCI bus but no driver: nvidia-smi is not installed",
                    next: "install the NVIDIA driver (sudo ubuntu-drivers install), then reboot")
            }
            return findings
        }
        async let listedCall = probe.call("nvidia-smi", ["-L"])
        async let queried = query(probe)
        async let xidCall = probe.kernelLog.outcome(probe)
        async let packagesCall = kernelPackages(probe)
        async let dkmsCall = probe.has("dkms") ? probe.call("dkms", ["status"]) : nil
        async let linksCall = Fabric.linkCheck(probe)
        async let managerCall = Fabric.managerCheck(probe)
        let (listed, gpus, xids, packages, dkmsResult) = try await (listedCall, queried, xidCall, packagesCall, dkmsCall)
        let (links, manager) = try await (linksCall, managerCall)
        let dkms = dkmsResult.map { DKMSStatus.parse($0.stdout) }

        var known: [String: Int] = [:]
        if listed.succeeded, let gpus {
            let names = NvidiaSMI.parseList(listed.stdout)
            // A GPU that fell off the bus can still be listed while the query leaves it out.
            findings.add(
                "nvidia", names.count == gpus.count ? .ok : .warning,
                "\(names.count) GPU(s) listed, \(gpus.count) answered the query"
                    + (names.isEmpty ? "" : ": " + names.joined(separator: ", ")),
                next: "find the GPU that does not answer in nvidia-smi -q and in the kernel log (sudo journalctl -k -b | grep NVRM)")
            for gpu in gpus {
                let (status, detail) = gpu.verdict
                findings.add("gpu\(gpu.index)", status, detail, next: gpu.nextStep)
                findings.metrics += gpu.metrics
                if let bus = gpu.pciBusID { known[KernelXids.normalizePCI(bus)] = gpu.index }
            }
            findings.set("gpus", gpus)
            findings.add(countCheck(onBus: onBus, listed: names.count, known: known))
            if let links { findings.add(links) }
        } else {
            findings.add(try driverCheck(listed, probe))
            findings.set("gpus", [GPUState]())
        }
        let (xidChecks, xidMetrics, summaries) = XidProbe.checks(xids, gpuIndex: known)
        findings.checks += xidChecks
        findings.metrics += xidMetrics
        findings.set("xids", summaries)
        if let packages, let kernel = NextBootDriver.newestKernel(packages.images) {
            let nextBoot = NextBootDriver.check(kernel: kernel, dkms: dkms ?? [], modulePackages: packages.modules)
            findings.add(nextBoot)
            findings.measure(
                "ailab_gpu_next_boot_driver_ok", "Whether the newest installed kernel has an NVIDIA module (1) or not (0).",
                nextBoot.status == .ok ? 1 : 0)
        }
        findings.add(dkmsCheck(dkms, probe))
        if let (check, metric) = manager {
            findings.add(check)
            findings.metrics.append(metric)
        }
        return findings
    }

    /// Asks `--query-gpu` for every field; a driver that refuses one refuses the whole query, so
    /// it is asked again without it (or under its older name). nil when nvidia-smi itself fails.
    private func query(_ probe: HealthProbe) async throws -> [GPUState]? {
        var fields = NvidiaSMI.queryFields
        while true {
            let query = try await probe.call("nvidia-smi", ["--query-gpu=" + fields.joined(separator: ","), "--format=csv,nounits"])
            if query.succeeded { return try NvidiaSMI.parseCSV(query.stdout) }
            guard let refused = NvidiaSMI.refusedField(query.stdout + "\n" + query.stderr), let position = fields.firstIndex(of: refused),
                !["index", "name", "driver_version"].contains(refused)
            else {
                if DriverFailure.classify(query.stdout + query.stderr) != .other { return nil }
                throw AilabError.failed("nvidia-smi --query-gpu: \(query.message ?? query.termination.description)")
            }
            if let older = NvidiaSMI.olderName(of: refused) { fields[position] = older } else { fields.remove(at: position) }
        }
    }

    /// nvidia-smi cannot reach the GPUs: say why in an administrator's terms, and what to do.
    private func driverCheck(_ listed: InvocationResult, _ probe: HealthProbe) throws -> Check {
        let output = listed.stdout + "\n" + listed.stderr
        let kernel = probe.files.read("/proc/sys/kernel/osrelease")?.trimmed() ?? "?"
        switch DriverFailure.classify(output) {
        case .versionMismatch:
            let module = probe.files.read("/proc/driver/nvidia/version").flatMap(DriverFailure.kernelModuleVersion)
            let library = DriverFailure.libraryVersion(output)
            return Check(
                "driver", .failed,
                "Driver/library version mismatch: kernel module \(module ?? "?"), NVML library \(library ?? "?"). "
                    + "The NVIDIA userspace was upgraded under the loaded module; GPUs stay unusable until a reboot "
                    + "(or the nvidia modules are unloaded and loaded again)",
                next: "drain the host and reboot it")
        case .noDriver:
            let loaded = (probe.files.read("/proc/modules") ?? "").split(separator: "\n").contains { $0.hasPrefix("nvidia ") }
            return Check(
                "driver", .failed,
                "nvidia-smi cannot communicate with the NVIDIA driver; running kernel \(kernel): "
                    + (loaded ? "the nvidia module is loaded but not answering" : "the nvidia module is not loaded"),
                next: loaded
                    ? "read the driver's complaint (sudo journalctl -k -b | grep NVRM), then reboot"
                    : "load it (sudo modprobe nvidia); if that fails, check dkms status for kernel \(kernel)")
        case .other:
            return Check(
                "driver", .failed, "nvidia-smi -L: \(listed.message ?? listed.termination.description)",
                next: "run nvidia-smi by hand and read the kernel log (sudo journalctl -k -b | grep NVRM)")
        }
    }

    /// Every NVIDIA GPU on the PCI bus should be one the driver knows.
    private func countCheck(onBus: [String], listed: Int, known: [String: Int]) -> Check {
        guard !onBus.isEmpty else { return Check("gpu count", .ok, "\(listed) GPU(s) known to the driver (PCI bus not readable here)") }
        let unknown = onBus.filter { known[KernelXids.normalizePCI($0)] == nil }
        if onBus.count > listed || (!known.isEmpty && !unknown.isEmpty) {
            return Check(
                "gpu count", .failed,
                "\(onBus.count) NVIDIA GPU(s) on the PCI bus, \(listed) known to the driver"
                    + (unknown.isEmpty ? "" : "; unknown to it: " + unknown.joined(separator: ", ")),
                next:
                    "look for the missing GPU's Xid 79 or RmInitAdapter error (sudo journalctl -k -b | grep NVRM); a reboot or reseat brings it back"
            )
        }
        return Check("gpu count", .ok, "\(onBus.count) NVIDIA GPU(s) on the PCI bus, all known to the driver")
    }

    /// The installed kernel images and NVIDIA module packages; nil without dpkg.
    private func kernelPackages(_ probe: HealthProbe) async throws -> (images: [InstalledPackage], modules: [InstalledPackage])? {
        guard probe.has("dpkg-query") else { return nil }
        async let imagesCall = probe.call("dpkg-query", ["-W", "-f", DpkgQuery.format, "linux-image-*"])
        async let modulesCall = probe.call("dpkg-query", ["-W", "-f", DpkgQuery.format, "linux-modules-nvidia-*"])
        let (images, modules) = try await (imagesCall, modulesCall)
        return ((try? DpkgQuery.parse(images.stdout)) ?? [], (try? DpkgQuery.parse(modules.stdout)) ?? [])
    }

    private func dkmsCheck(_ modules: [DKMSModule]?, _ probe: HealthProbe) -> Check {
        guard let modules else { return Check("dkms", .absent, "dkms is not installed") }
        let kernel = probe.files.read("/proc/sys/kernel/osrelease")?.trimmed()
        let nvidia = modules.filter { $0.module.hasPrefix("nvidia") }
        guard !nvidia.isEmpty else {
            return Check("dkms", .ok, "no NVIDIA DKMS module (the driver comes from packaged kernel modules)")
        }
        let forKernel = nvidia.filter { $0.kernel == nil || $0.kernel == kernel }
        let built = forKernel.filter { $0.state == "installed" }
        let names = nvidia.map(\.summary).joined(separator: "; ")
        return built.isEmpty
            ? Check(
                "dkms", .warning, "NVIDIA module not installed for the running kernel \(kernel ?? "?"): \(names)",
                next: "build it: sudo dkms autoinstall -k \(kernel ?? "$(uname -r)")")
            : Check("dkms", .ok, names)
    }
}
