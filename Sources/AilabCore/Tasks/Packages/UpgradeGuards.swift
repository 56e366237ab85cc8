/// The refusals of `ailab upgrade`, decided on the simulation alone (dry run and execute alike).
package enum UpgradeGuards {
    /// The NVIDIA driver's userspace and kernel-module packages: upgrading them under a loaded
    /// module breaks every CUDA job until the host reboots. Ubuntu's names carry the branch
    /// (`nvidia-driver-550`, `nvidia-dkms-550-open`); NVIDIA's own repository drops it from
    /// branch 590 on (`nvidia-driver`, `nvidia-dkms-open`, `nvidia-open`, `cuda-drivers`) and
    /// pins branches with `nvidia-driver-pinning-<branch>`. Each stem matches alone or followed
    /// by `-`. The container toolkit is not the driver.
    static let driverStems = [
        "nvidia-driver", "nvidia-dkms", "nvidia-open", "nvidia-kernel", "nvidia-utils", "nvidia-compute-utils",
        "nvidia-firmware", "nvidia-headless", "cuda-drivers", "libnvidia", "xserver-xorg-video-nvidia",
        "linux-modules-nvidia", "linux-objects-nvidia", "linux-signatures-nvidia",
    ]

    package static func isDriverPackage(_ name: String) -> Bool {
        if name.hasPrefix("nvidia-container") || name.hasPrefix("libnvidia-container") { return false }
        return driverStems.contains { name == $0 || name.hasPrefix($0 + "-") }
    }

    /// dpkg-query patterns for the same packages.
    package static var driverPackagePatterns: [String] {
        driverStems.filter { $0 != "libnvidia" }.flatMap { [$0, $0 + "-*"] }
    }

    package static func driverUpgrades(_ simulation: UpgradeSimulation) -> [PackageChange] {
        simulation.upgrades.filter { isDriverPackage($0.name) }
    }

    package static func newKernels(_ simulation: UpgradeSimulation) -> [String] {
        simulation.installs.compactMap { PackageRules.kernelRelease(ofImage: $0.name) }
    }

    /// A new kernel needs about what the running one takes in /boot (vmlinuz, initrd, System.map,
    /// config), plus a margin: a tenth more and 50 MiB for the initramfs tools' temporary files.
    package static func bootSpaceNeeded(runningKernelFiles bytes: Int64) -> Int64 {
        bytes + bytes / 10 + 50 << 20
    }

    /// With --security nothing else may come along: a fix that needs another origin's upgrade waits.
    package static func securityCheck(_ simulation: UpgradeSimulation, _ pockets: SecurityPockets?) -> Check {
        let others = simulation.upgrades.filter { pockets?.contains($0) != true }
        return others.isEmpty
            ? Check(
                "security only", .ok,
                simulation.upgrades.isEmpty
                    ? "no security fix is pending"
                    : "every upgrade comes from \(pockets?.description ?? "a security pocket")")
            : Check(
                "security only", .failed,
                "refused: the security fixes also need "
                    + others.map { "\($0.name) \($0.to) (\($0.origin))" }.joined(separator: ", ") + ", which are not security fixes",
                next: "review the whole upgrade: sudo ailab upgrade (without --security)")
    }

    /// Upgrades whose suite is called `*-security` but that are not the host's own pockets: named
    /// in the plan, so that nobody takes them for security fixes.
    package static func lookAlikes(_ waiting: [PackageChange], _ pockets: SecurityPockets?) -> [String] {
        let named = waiting.filter { $0.sources.contains { $0.archive.hasSuffix("-security") } }
        guard let pockets else {
            return ["os-release names no distribution and codename: no upgrade counts as a security fix"]
        }
        if named.isEmpty { return [] }
        return [
            "Not security fixes (not \(pockets.description)):\n"
                + named.map { "  \($0.name) \($0.to) (\($0.origin))" }.joined(separator: "\n")
        ]
    }

    package static func protectedCheck(_ simulation: UpgradeSimulation) -> Check {
        let protected = simulation.removals.map(\.name).filter(PackageRules.isProtected)
        return protected.isEmpty
            ? Check("protected packages", .ok, "no GPU, CUDA, container or virtualisation package would be removed")
            : Check(
                "protected packages", .failed, "refused: the upgrade would remove \(protected.joined(separator: ", "))",
                next: "resolve the dependency change first (apt-get -s dist-upgrade shows why)")
    }

    /// `gpuProcesses` are the lines of `nvidia-smi --query-compute-apps=pid,process_name,used_memory`.
    package static func driverCheck(_ simulation: UpgradeSimulation, allowed: Bool, gpuProcesses: [String]) -> Check {
        let driver = driverUpgrades(simulation)
        guard !driver.isEmpty else { return Check("driver", .ok, "no NVIDIA driver package would change") }
        let names = driver.map { "\($0.name) \($0.from ?? "") → \($0.to)" }.joined(separator: ", ")
        if allowed {
            return Check("driver", .ok, "NVIDIA driver upgrade allowed (--allow-driver-upgrade): \(names); a reboot is required afterwards")
        }
        let processes =
            gpuProcesses.isEmpty ? "no GPU process is running" : "GPU processes that would break: " + gpuProcesses.joined(separator: "; ")
        return Check(
            "driver", .failed,
            "refused: the NVIDIA driver would be upgraded under the loaded module (\(names)); "
                + "GPUs stay unusable until the host reboots. \(processes)",
            next: "drain the host, then sudo ailab upgrade --execute --allow-driver-upgrade, and reboot")
    }

    package static func bootCheck(_ simulation: UpgradeSimulation, freeBytes: Int64?, runningKernelFiles: Int64) -> Check {
        let kernels = newKernels(simulation)
        guard !kernels.isEmpty else { return Check("/boot", .ok, "no new kernel would be installed") }
        guard let freeBytes else {
            return Check(
                "/boot", .warning, "a new kernel (\(kernels.joined(separator: ", "))) would be installed; /boot free space unknown",
                next: "check the space yourself: df -h /boot")
        }
        let needed = bootSpaceNeeded(runningKernelFiles: runningKernelFiles) * Int64(kernels.count)
        let summary = "\(ByteCount.format(freeBytes)) free, \(ByteCount.format(needed)) needed for \(kernels.joined(separator: ", "))"
        return freeBytes < needed
            ? Check("/boot", .failed, "refused: /boot has \(summary)", next: "make room first: sudo ailab kernel-cleanup --execute")
            : Check("/boot", .ok, summary)
    }
}
