/// The apt-get and dpkg-query invocations both package tasks use.
public struct AptCommands: Sendable {
    public let lockTimeout: Int

    public init(lockTimeout: Int) {
        self.lockTimeout = lockTimeout
    }

    /// Execute runs never prompt, and needrestart only lists what it would restart.
    static let executeEnvironment = ["DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_MODE": "l"]
    var lockOption: [String] { ["-o", "DPkg::Lock::Timeout=\(lockTimeout)"] }
    /// A long package operation is still bounded: the lock wait plus an hour.
    var changeTimeout: Duration { .seconds(lockTimeout + 3600) }

    public var simulateAutoremove: Invocation { Invocation("apt-get", ["-s", "autoremove", "--purge"], timeout: .seconds(300)) }
    public var simulateAutoclean: Invocation { Invocation("apt-get", ["-s", "autoclean"], timeout: .seconds(300)) }
    public var installedImages: Invocation {
        Invocation("dpkg-query", ["-W", "-f", DpkgQuery.format, "linux-image-*"], timeout: .seconds(60))
    }
    /// The NVIDIA driver's packages, DKMS and prebuilt module alike.
    public var nvidiaPackages: Invocation {
        Invocation("dpkg-query", ["-W", "-f", DpkgQuery.format, "nvidia-driver-*", "nvidia-dkms-*", "linux-modules-nvidia-*"],
                   timeout: .seconds(60))
    }
    public var runningKernel: Invocation { Invocation("uname", ["-r"], timeout: .seconds(10)) }

    public var simulateDistUpgrade: Invocation { Invocation("apt-get", ["-s", "dist-upgrade"], timeout: .seconds(300)) }

    /// Never prompts, and keeps every configuration file the administrator changed.
    public var distUpgrade: PlanStep {
        change(["-y", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold", "dist-upgrade"],
               "upgrade every package, keeping changed configuration files")
    }

    public var update: PlanStep {
        change(["update"], "refresh the package lists")
    }

    public func autoremove(_ removals: [PackageRemoval]) -> PlanStep {
        change(["-y", "autoremove", "--purge"],
               removals.isEmpty ? "remove nothing (no package is unused)" : "purge \(removals.count) unused packages")
    }

    public var autoclean: PlanStep {
        change(["autoclean"], "delete downloaded package files that can no longer be downloaded")
    }

    private func change(_ arguments: [String], _ purpose: String) -> PlanStep {
        PlanStep.run(Invocation("apt-get", lockOption + arguments, environment: Self.executeEnvironment,
                                timeout: changeTimeout), purpose: purpose)
    }

    public static let requiredTools = [(command: "apt-get", package: "apt"), (command: "dpkg-query", package: "dpkg")]
}
