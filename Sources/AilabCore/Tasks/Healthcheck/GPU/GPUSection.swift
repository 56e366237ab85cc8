import FoundationEssentials

/// NVIDIA GPUs: the driver's state, each GPU from one `--query-gpu` call, Xid errors of this
/// boot, the GPUs on the PCI bus against those the driver knows, and whether the next boot has
/// an NVIDIA module. The probes run side by side.
struct GPUSection: HealthSection {
    let title = "gpu"

    func findings(from probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        let onBus = PCIInventory.nvidiaGPUs(probe.files)
        let hasTool = probe.has("nvidia-smi")
        guard hasTool || !onBus.isEmpty || DriverFailure.moduleLoaded(probe.files) else {
            findings.add("nvidia", .absent, "nvidia-smi is not installed (no NVIDIA driver)")
            return findings
        }
        // The kernel's word does not depend on nvidia-smi: an Xid 79 usually takes the tool down
        // with the GPU, and is then the diagnosis.
        async let xidCall = probe.kernelLog.outcome(probe)
        guard hasTool else {
            let xids = XidChecks.checks(try await xidCall, gpuIndex: [:])
            findings.add(
                Check(
                    "nvidia", .failed,
                    (onBus.isEmpty ? "the nvidia module is loaded" : "\(onBus.count) NVIDIA GPU(s) on the PCI bus")
                        + " but no driver: nvidia-smi is not installed" + XidChecks.evidence(xids.summaries),
                    next: XidChecks.firstStep(xids.summaries) ?? "install the NVIDIA driver (sudo ubuntu-drivers install), then reboot"))
            findings.merge(xids.findings)
            return findings
        }
        async let listedCall = SMIAnswer.of { try await probe.call("nvidia-smi", ["-L"]) }
        async let queried = query(probe)
        async let packagesCall = kernelPackages(probe)
        async let dkmsCall = probe.has("dkms") ? probe.call("dkms", DKMSStatus.invocation.arguments) : nil
        // Like -L, the link query hangs when the driver does: it then has nothing to add.
        async let linksCall = SMIAnswer.unlessHung { try await Fabric.linkCheck(probe) }
        async let managerCall = Fabric.managerCheck(probe)
        async let appsCall = SMIAnswer.unlessHung { try await GPUHolders.computeApps(probe.call) }
        async let passedCall = GPUHolders.passedThrough(probe.call, files: probe.files, has: probe.has)
        let (listed, gpus, xidOutcome, packages, dkmsResult) = try await (listedCall, queried, xidCall, packagesCall, dkmsCall)
        let (links, manager, apps, passed) = try await (linksCall, managerCall, appsCall, passedCall)
        let dkms = dkmsResult.map { DKMSStatus.parse($0.stdout) }

        var known: [String: Int] = [:]
        for gpu in (try? gpus.get()) ?? [] {
            if let bus = gpu.pciBusID { known[KernelXids.normalizePCI(bus)] = gpu.index }
        }
        let xids = XidChecks.checks(xidOutcome, gpuIndex: known)
        if case .answered(let result) = listed, result.succeeded, case .success(var gpus) = gpus {
            let names = NvidiaSMI.parseList(result.stdout)
            if let apps {
                let processes = try await GPUHolders.attribute(apps, gpuIndex: known, files: probe.files, call: probe.call, has: probe.has)
                for index in gpus.indices { gpus[index].processes = processes.filter { $0.gpu == gpus[index].index } }
            }
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
            }
            findings.set("gpus", gpus)
            findings.add(countCheck(onBus: onBus.filter { bus in !passed.contains { $0.pci == bus } }, listed: names.count, known: known))
            if let links { findings.add(links) }
        } else {
            findings.add(driverCheck(listed, gpus, xids.summaries, probe))
            findings.set("gpus", [GPUState]())
        }
        findings.merge(xids.findings)
        if !passed.isEmpty {
            findings.add("passthrough", .ok, passed.map(\.summary).joined(separator: "; "))
            findings.set("passthrough", passed)
        }
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

    /// What nvidia-smi said, or that it hung: a hung tool is a finding, not the section's end.
    enum SMIAnswer: Sendable {
        case answered(InvocationResult)
        case hung(SectionContext.TimedOut)

        static func of(_ call: () async throws -> InvocationResult) async throws -> SMIAnswer {
            do {
                return .answered(try await call())
            } catch let timedOut as SectionContext.TimedOut {
                return .hung(timedOut)
            }
        }

        static func unlessHung<T>(_ call: () async throws -> T?) async throws -> T? {
            do {
                return try await call()
            } catch is SectionContext.TimedOut {
                return nil
            }
        }
    }

    /// Why `--query-gpu` gave no GPUs, in nvidia-smi's words or as its hang.
    struct QueryFailure: Error {
        let answer: SMIAnswer
    }

    /// Asks `--query-gpu` for every field; a driver that refuses one refuses the whole query, so
    /// it is asked again without it (or under its older name).
    private func query(_ probe: SectionContext) async throws -> Result<[GPUState], QueryFailure> {
        var fields = NvidiaSMI.queryFields
        while true {
            let answer = try await SMIAnswer.of {
                try await probe.call("nvidia-smi", ["--query-gpu=" + fields.joined(separator: ","), "--format=csv,nounits"])
            }
            guard case .answered(let query) = answer else { return .failure(QueryFailure(answer: answer)) }
            if query.succeeded { return .success(try NvidiaSMI.parseCSV(query.stdout)) }
            guard let refused = NvidiaSMI.refusedField(query.stdout + "\n" + query.stderr), let position = fields.firstIndex(of: refused),
                !["index", "name", "driver_version"].contains(refused)
            else { return .failure(QueryFailure(answer: answer)) }
            if let older = NvidiaSMI.olderName(of: refused) { fields[position] = older } else { fields.remove(at: position) }
        }
    }

    /// nvidia-smi cannot reach the GPUs: say why in an administrator's terms, beside what the
    /// kernel said about them, and what to do.
    private func driverCheck(
        _ listed: SMIAnswer, _ queried: Result<[GPUState], QueryFailure>, _ xids: [XidSummary], _ probe: SectionContext
    ) -> Check {
        let evidence = XidChecks.evidence(xids)
        let step = XidChecks.firstStep(xids)
        let failed: InvocationResult
        let queryAnswer: SMIAnswer? = if case .failure(let failure) = queried { failure.answer } else { nil }
        switch (listed, queryAnswer) {
        case (.hung(let timedOut), _), (_, .hung(let timedOut)?):
            let stuck = StuckProcesses.read(probe).filter { $0.name.hasPrefix("nvidia-smi") }
            return Check(
                "driver", .failed,
                "nvidia-smi hung (\(timedOut))"
                    + (stuck.isEmpty ? "" : "; " + stuck.map(\.summary).joined(separator: ", ") + " in the D state")
                    + evidence,
                next: step ?? "read the driver's complaint (sudo journalctl -k -b | grep NVRM), then drain the host and reboot it")
        case (.answered(let result), _) where !result.succeeded: failed = result
        case (_, .answered(let result)?): failed = result
        default: return Check("driver", .failed, "nvidia-smi answered without GPUs" + evidence, next: step)
        }
        let output = failed.stdout + "\n" + failed.stderr
        let kernel = probe.runningKernel ?? "?"
        switch DriverFailure.classify(output) {
        case .versionMismatch:
            let module = probe.files.read("/proc/driver/nvidia/version").flatMap(DriverFailure.kernelModuleVersion)
            let library = DriverFailure.libraryVersion(output)
            return Check(
                "driver", .failed,
                "Driver/library version mismatch: kernel module \(module ?? "?"), NVML library \(library ?? "?"). "
                    + "The NVIDIA userspace was upgraded under the loaded module; GPUs stay unusable until a reboot "
                    + "(or the nvidia modules are unloaded and loaded again)" + evidence,
                next: "drain the host and reboot it")
        case .noDriver:
            let loaded = DriverFailure.moduleLoaded(probe.files)
            return Check(
                "driver", .failed,
                "nvidia-smi cannot communicate with the NVIDIA driver; running kernel \(kernel): "
                    + (loaded ? "the nvidia module is loaded but not answering" : "the nvidia module is not loaded") + evidence,
                next: step
                    ?? (loaded
                        ? "read the driver's complaint (sudo journalctl -k -b | grep NVRM), then reboot"
                        : "load it (sudo modprobe nvidia); if that fails, check dkms status for kernel \(kernel)"))
        case .other:
            let which = failed.invocation.arguments.first?.hasPrefix("--query-gpu") == true ? "--query-gpu" : "-L"
            return Check(
                "driver", .failed, "nvidia-smi \(which): \(failed.message ?? failed.termination.description)" + evidence,
                next: step ?? "run nvidia-smi by hand and read the kernel log (sudo journalctl -k -b | grep NVRM)")
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
    private func kernelPackages(_ probe: SectionContext) async throws -> (images: [InstalledPackage], modules: [InstalledPackage])? {
        guard probe.has("dpkg-query") else { return nil }
        async let imagesCall = probe.call("dpkg-query", ["-W", "-f", DpkgQuery.format, "linux-image-*"])
        async let modulesCall = probe.call("dpkg-query", ["-W", "-f", DpkgQuery.format, "linux-modules-nvidia-*"])
        let (images, modules) = try await (imagesCall, modulesCall)
        return ((try? DpkgQuery.parse(images.stdout)) ?? [], (try? DpkgQuery.parse(modules.stdout)) ?? [])
    }

    private func dkmsCheck(_ modules: [DKMSModule]?, _ probe: SectionContext) -> Check {
        guard let modules else { return Check("dkms", .absent, "dkms is not installed") }
        let kernel = probe.runningKernel
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
