/// The apt-get and dpkg-query invocations both package tasks use.
package struct AptCommands: Sendable {
    package let lockTimeout: Int

    package init(lockTimeout: Int) {
        self.lockTimeout = lockTimeout
    }

    /// Execute runs never prompt, and needrestart only lists what it would restart.
    static let executeEnvironment = ["DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_MODE": "l"]
    var lockOption: [String] { ["-o", "DPkg::Lock::Timeout=\(lockTimeout)"] }
    /// After the lock wait plus an hour a package change is still waited for, with a warning in the log.
    var changeTimeout: Duration { .seconds(lockTimeout + 3600) }

    package var simulateAutoremove: Invocation { Invocation("apt-get", ["-s", "autoremove", "--purge"], timeout: .seconds(300)) }
    package var simulateAutoclean: Invocation { Invocation("apt-get", ["-s", "autoclean"], timeout: .seconds(300)) }
    package var installedImages: Invocation {
        Invocation("dpkg-query", ["-W", "-f", DpkgQuery.format, "linux-image-*"], timeout: .seconds(60))
    }
    /// The NVIDIA driver's packages, DKMS and prebuilt module alike.
    package var nvidiaPackages: Invocation {
        Invocation("dpkg-query", ["-W", "-f", DpkgQuery.format] + UpgradeGuards.driverPackagePatterns, timeout: .seconds(60))
    }
    /// Every package dpkg knows, with its state: an interrupted dpkg leaves some half-way.
    package static let packageStates = Invocation("dpkg-query", ["-W", "-f", DpkgQuery.format], timeout: .seconds(60))
    /// Where apt keeps its package lists (`LISTS='/var/lib/apt/lists/'`), to tell how old they are.
    package var listsFolder: Invocation { Invocation("apt-config", ["shell", "LISTS", "Dir::State::lists/d"], timeout: .seconds(30)) }
    /// Where apt keeps downloaded packages (`CACHE='/var/cache/apt/archives/'`): old versions may still lie there.
    package static let cacheFolder = Invocation("apt-config", ["shell", "CACHE", "Dir::Cache::archives/d"], timeout: .seconds(30))

    package var simulateDistUpgrade: Invocation { Invocation("apt-get", ["-s", "dist-upgrade"], timeout: .seconds(300)) }

    /// Never prompts, and keeps every configuration file the administrator changed.
    package var distUpgrade: PlanStep {
        change(Self.keepConfiguration + ["dist-upgrade"], "upgrade every package, keeping changed configuration files", .runsToCompletion)
    }

    /// The security set only, at exactly the versions the simulation showed.
    package func securityUpgrade(_ changes: [PackageChange]) -> PlanStep {
        change(
            Self.keepConfiguration + Self.onlyUpgrade(changes),
            "upgrade the \(changes.count) package(s) with security fixes, keeping changed configuration files", .runsToCompletion)
    }

    package func simulateSecurityUpgrade(_ changes: [PackageChange]) -> Invocation {
        Invocation("apt-get", ["-s"] + Self.onlyUpgrade(changes), timeout: .seconds(300))
    }

    /// Exactly these packages at exactly these versions, and nothing newly selected.
    private static func onlyUpgrade(_ changes: [PackageChange]) -> [String] {
        ["install", "--only-upgrade"] + changes.map { "\($0.name)=\($0.to)" }
    }

    /// The rollback: the point's .debs installed as they are (downgrades allowed), the packages the
    /// upgrade brought in removed (`name-`), apt resolving what else they need.
    package func rollback(debs: [String], removals: [String]) -> PlanStep {
        change(
            Self.keepConfiguration + ["--allow-downgrades", "install", "--"] + debs + removals.map { $0 + "-" },
            "install the \(debs.count) recorded version(s) and remove the \(removals.count) package(s) the upgrade brought in",
            .runsToCompletion)
    }

    package func simulateRollback(debs: [String], removals: [String]) -> Invocation {
        Invocation("apt-get", ["-s", "--allow-downgrades", "install", "--"] + debs + removals.map { $0 + "-" }, timeout: .seconds(300))
    }

    /// `apt-mark auto|manual|hold|unhold -- names`, as the point recorded them unless `purpose` says otherwise.
    package func mark(_ how: String, _ names: [String], purpose: String? = nil) -> PlanStep {
        PlanStep.run(Invocation("apt-mark", [how, "--"] + names, timeout: .seconds(300)), purpose: purpose ?? "as recorded: \(how)")
    }

    static let keepConfiguration = ["-y", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]

    package var update: PlanStep {
        change(["update"], "refresh the package lists", .boundToAilab)
    }

    package func autoremove(_ removals: [PackageRemoval]) -> PlanStep {
        change(
            ["-y", "autoremove", "--purge"],
            removals.isEmpty
                ? "remove nothing (no package is unused)"
                : "purge \(removals.count) unused package(s): " + removals.map(\.name).joined(separator: " "), .runsToCompletion)
    }

    package var autoclean: PlanStep {
        change(["autoclean"], "delete downloaded package files that can no longer be downloaded", .boundToAilab)
    }

    /// A step that runs dpkg runs to completion; a download or a cache clean-up may be cut short.
    private func change(_ arguments: [String], _ purpose: String, _ lifetime: Lifetime) -> PlanStep {
        PlanStep.run(
            Invocation(
                "apt-get", lockOption + arguments, environment: Self.executeEnvironment,
                timeout: changeTimeout, lifetime: lifetime), purpose: purpose)
    }

}
