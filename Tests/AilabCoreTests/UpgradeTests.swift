@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct UpgradeSimulationTests {
    @Test func localRepositoryRunWithRemovalNewKernelKeptBackAndDriver() throws {
        let simulation = UpgradeSimulation.parse(try Fixture.text("apt/apt-get-s-dist-upgrade-local-repo-bookworm.txt"))
        #expect(simulation.upgrades.map(\.name) == ["libfoo1", "libold", "linux-image-generic", "nvidia-driver-550"])
        #expect(simulation.upgrades.first == PackageChange(name: "libfoo1", from: "1.0", to: "1.1", origin: "localhost"))
        #expect(
            simulation.installs == [PackageChange(name: "linux-image-6.8.0-51-generic", from: nil, to: "6.8.0-51.52", origin: "localhost")])
        #expect(simulation.removals == [PackageRemoval(name: "cuda-toolkit-12", version: "12.0", purge: false)])
        #expect(simulation.keptBack == ["heldpkg"])
        #expect(UpgradeGuards.driverUpgrades(simulation).map(\.name) == ["nvidia-driver-550"])
        #expect(UpgradeGuards.newKernels(simulation) == ["6.8.0-51-generic"])
    }

    @Test func ubuntuOriginsAndTrailingDependencyNotes() throws {
        let simulation = UpgradeSimulation.parse(try Fixture.text("apt/apt-get-s-dist-upgrade-jammy-apt-rsync.txt"))
        #expect(simulation.upgrades.map(\.name) == ["libapt-pkg6.0", "apt", "apt-utils", "rsync"])
        #expect(simulation.upgrades[1] == PackageChange(name: "apt", from: "2.4.7", to: "2.4.8", origin: "Ubuntu:22.04/jammy-updates"))
        let security = UpgradeSimulation.parse(
            "Inst libpixman-1-0 [0.40.0-1build4] (0.40.0-1ubuntu0.22.04.1 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])\n"
        )
        #expect(security.upgrades.first?.origin == "Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security")
        #expect(simulation.installs.isEmpty && simulation.removals.isEmpty && simulation.keptBack.isEmpty)
    }

    @Test func driverPackagesAreTheDriverNotTheContainerToolkit() {
        for name in [
            "nvidia-driver-550", "libnvidia-compute-550", "nvidia-dkms-550-open", "linux-modules-nvidia-550-6.8.0-51-generic",
            "nvidia-utils-550-server", "nvidia-firmware-550-550.127",
        ] {
            #expect(UpgradeGuards.isDriverPackage(name), "\(name)")
        }
        for name in ["nvidia-container-toolkit", "libnvidia-container1", "cuda-toolkit-12-4", "linux-image-6.8.0-51-generic"] {
            #expect(!UpgradeGuards.isDriverPackage(name), "\(name)")
        }
    }
}

/// ailab upgrade's decisions on the fail-by-default fake runner.
@Suite(.timeLimit(.minutes(2))) struct UpgradeTaskTests {
    static let libraryOnly =
        "Inst libfoo1 [1.0] (1.1 Ubuntu:24.04/noble-updates [amd64])\nConf libfoo1 (1.1 Ubuntu:24.04/noble-updates [amd64])\n"
    static let driver =
        "Inst nvidia-driver-550 [550.90.07-0ubuntu1] (550.127.05-0ubuntu1 Ubuntu:24.04/noble-updates [amd64])\n"
        + "Inst libnvidia-compute-550 [550.90.07-0ubuntu1] (550.127.05-0ubuntu1 Ubuntu:24.04/noble-updates [amd64])\n"
    static let newKernel = "Inst linux-image-6.8.0-51-generic (6.8.0-51.52 Ubuntu:24.04/noble-updates [amd64])\n"

    func runner(simulation: String, bootFreeBytes: Int64 = 900_000_000) -> FakeRunner {
        let runner = FakeRunner(installed: Set(["apt-mark", "uname", "df"] + TaskCatalog.upgrade.requiredTools.map(\.command)))
        // Any other query (the rollback point's architectures) knows no package.
        runner.on("dpkg-query", stdout: "")
        runner.on("apt-get", ["-s", "dist-upgrade"], stdout: simulation)
        runner.on("apt-mark", ["showhold"], stdout: "")
        runner.on(
            "df", ["-P", "-B1", "/boot"],
            stdout: "Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/nvme0n1p1 2000000000 1 \(bootFreeBytes) 1% /boot\n")
        runner.on("apt-config", ["shell", "LISTS", "Dir::State::lists/d"], stdout: "LISTS='/var/lib/apt/lists/'\n")
        runner.on("apt-config", ["shell", "CACHE", "Dir::Cache::archives/d"], stdout: "CACHE='/var/cache/apt/archives/'\n")
        runner.on("dpkg-query", AptCommands.packageStates.arguments, stdout: "libfoo1\t1.0\tii \nlibold\t1.0\trc \n")
        runner.on("apt-mark", ["showauto"], stdout: "")
        runner.on("apt-cache", stdout: "")
        runner.archiving()
        return runner
    }

    func run(
        _ runner: FakeRunner, mode: RunMode = .dryRun, allowDriver: Bool = false, security: Bool = false,
        files: Scratch? = nil, children: LiveChildren = LiveChildren()
    ) async throws -> Report {
        let fake = try FakeContext(runner: runner, records: .stateFolder)
        var context = fake.context
        context.children = children
        // The rollback point archives /etc: never this machine's.
        let host = try files ?? Scratch()
        try FileManager.default.createDirectory(atPath: host.path + "/etc", withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: host.file("proc/sys/kernel/osrelease")) {
            try host.write("proc/sys/kernel/osrelease", "6.8.0-45-generic\n")
        }
        try Data("VERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n".utf8).write(
            to: URL(fileURLWithPath: host.path + "/etc/os-release"))
        context.files = HostFiles(root: host.path)
        let report = await TaskHarness.run(
            UpgradeTask(
                mode: mode, lockTimeout: 30, allowDriverUpgrade: allowDriver, securityOnly: security,
                keepPoints: AilabConfig.defaults.upgradeKeepPoints.value, keepBytes: AilabConfig.defaults.upgradeKeepBytes.value),
            in: context)
        withExtendedLifetime(host) {}
        return report
    }

    @Test func dryRunShowsThePlanAndStartsNothing() async throws {
        let runner = runner(simulation: Self.libraryOnly)
        let report = try await run(runner)
        #expect(report.exitStatus == .ok)
        #expect(runner.mutatingCalls.isEmpty)
        #expect(
            report.findings.plan.map(\.line).filter { $0.hasPrefix("apt-get") } == [
                "apt-get -o DPkg::Lock::Timeout=30 -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade  # upgrade every package, keeping changed configuration files"
            ])
        #expect(
            report.findings.plan.first?.line.hasSuffix("# rollback point 20260921-141320: manifest, old packages, /etc archive") == true)
        #expect(report.check("simulation")?.detail == "1 upgrade(s), 0 new, 0 removal(s), 0 kept back, 0 held")
        #expect(report.findings.metrics.first { $0.name == "ailab_upgrades_pending" }?.value == 1)
    }

    @Test func driverUpgradeIsRefusedNamingThePackagesAndTheGPUProcesses() async throws {
        let runner = runner(simulation: Self.driver)
        runner.on(
            "nvidia-smi", ["--query-compute-apps=pid,process_name,used_memory", "--format=csv,noheader"],
            stdout: "4242, python3, 70000 MiB\n4300, torchrun, 1000 MiB\n")
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=30", "update"], stdout: "")
        for mode in [RunMode.dryRun, .execute(interactive: false)] {
            let report = try await run(runner, mode: mode)
            let driver = try #require(report.check("driver"))
            #expect(driver.status == .failed && report.exitStatus == .failed)
            #expect(driver.detail.contains("nvidia-driver-550 550.90.07-0ubuntu1 → 550.127.05-0ubuntu1, libnvidia-compute-550"))
            #expect(driver.detail.contains("GPU processes that would break: 4242, python3, 70000 MiB; 4300, torchrun, 1000 MiB"))
            #expect(driver.detail.contains("GPUs stay unusable until the host reboots"))
        }
        #expect(runner.mutatingCalls.map(\.arguments.last) == ["update"])
        let allowed = try await run(runner, allowDriver: true)
        #expect(allowed.check("driver")?.status == .ok)
        #expect(allowed.check("driver")?.detail.hasSuffix("a reboot is required afterwards") == true)
    }

    @Test func protectedRemovalIsRefused() async throws {
        let report = try await run(runner(simulation: "Remv cuda-toolkit-12-4 [12.4.1-1]\nRemv docker.io [24.0.7]\n" + Self.libraryOnly))
        #expect(report.check("protected packages")?.status == .failed)
        #expect(
            report.check("protected packages")?.detail.hasPrefix("refused: the upgrade would remove cuda-toolkit-12-4, docker.io") == true)
    }

    @Test func newKernelNeedsRoomInBoot() async throws {
        let boot = try Scratch()
        try FileManager.default.createDirectory(atPath: boot.path + "/boot", withIntermediateDirectories: true)
        for (name, size) in [("vmlinuz", 15_000_000), ("initrd.img", 70_000_000), ("System.map", 8_000_000), ("config", 300_000)] {
            try Data(count: size).write(to: URL(fileURLWithPath: boot.path + "/boot/\(name)-6.8.0-45-generic"))
        }
        let tight = try await run(runner(simulation: Self.newKernel, bootFreeBytes: 120_000_000), files: boot)
        #expect(tight.check("/boot")?.status == .failed)
        #expect(tight.check("/boot")?.detail.contains("needed for 6.8.0-51-generic") == true)
        let roomy = try await run(runner(simulation: Self.newKernel, bootFreeBytes: 400_000_000), files: boot)
        #expect(roomy.check("/boot")?.status == .ok)
    }

    /// Debian writes no /run/reboot-required: after an upgrade that installs a newer kernel, the
    /// running one against the newest installed says that a reboot is required (issue 36, 10).
    @Test func aNewerKernelThanTheRunningOneRequiresAReboot() async throws {
        let runner = runner(simulation: Self.libraryOnly)
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=30", "update"], stdout: "")
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=30"] + AptCommands.keepConfiguration + ["dist-upgrade"], stdout: "")
        runner.on("dpkg-query", stdout: "")
        runner.on("dpkg-query", AptCommands.packageStates.arguments, stdout: "libfoo1\t1.0\tii \n")
        runner.on(
            "dpkg-query", AptCommands(lockTimeout: 30).installedImages.arguments,
            stdout: "linux-image-6.1.0-25-amd64\t6.1.106-3\tii \nlinux-image-6.1.0-28-amd64\t6.1.119-1\tii \n")
        let host = try Scratch()
        try FileManager.default.createDirectory(atPath: host.path + "/proc/sys/kernel", withIntermediateDirectories: true)
        try Data("6.1.0-25-amd64\n".utf8).write(to: URL(fileURLWithPath: host.path + "/proc/sys/kernel/osrelease"))
        let report = try await run(runner, mode: .execute(interactive: false), files: host)
        let reboot = try #require(report.check("reboot"))
        #expect(reboot.status == .warning)
        #expect(reboot.detail == "reboot required (running 6.1.0-25-amd64, newest installed 6.1.0-28-amd64)")
    }

    /// dpkg-query's format ends in a newline: its probe is still one line of the log.
    @Test func aCommandWithANewlineIsOneLogLine() async throws {
        let fake = try FakeContext(kernel: "6.8.0-45-generic", runner: runner(simulation: ""), records: .stateFolder)
        _ = await TaskHarness.run(
            UpgradeTask(
                mode: .dryRun, lockTimeout: 30, allowDriverUpgrade: false, securityOnly: false,
                keepPoints: AilabConfig.defaults.upgradeKeepPoints.value, keepBytes: AilabConfig.defaults.upgradeKeepBytes.value),
            in: fake.context)
        let lines = fake.log("upgrade").split(separator: "\n")
        #expect(lines.contains { $0.contains("probe: dpkg-query") && $0.contains("\\x0a") })
        #expect(lines.allSatisfy { $0.hasPrefix("20") }, "\(lines)")
    }

    /// An execute plans on fresh lists: what the update brought is what is upgraded.
    @Test func executeRefreshesTheListsThenPlansOnThem() async throws {
        let runner = runner(simulation: "")
        let updated = Counter()
        runner.on("apt-get", ["-s", "dist-upgrade"]) { invocation in
            InvocationResult(invocation: invocation, termination: .exited(0), stdout: updated.value > 0 ? Self.libraryOnly : "")
        }
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=30", "update"]) { invocation in
            _ = updated.next()
            return InvocationResult(invocation: invocation, termination: .exited(0))
        }
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=30"] + AptCommands.keepConfiguration + ["dist-upgrade"], stdout: "")
        runner.on("dpkg-query", stdout: "")
        runner.on("dpkg-query", AptCommands.packageStates.arguments, stdout: "libfoo1\t1.0\tii \n")
        let report = try await run(runner, mode: .execute(interactive: false))
        #expect(report.exitStatus == .ok, "\(report.checks)")
        #expect(report.check("apt-get update")?.detail == "package lists refreshed before planning")
        #expect(report.check("simulation")?.detail.hasPrefix("1 upgrade(s)") == true)
        let apt = runner.mutatingCalls.filter { $0.executable == "apt-get" }
        #expect(apt.map(\.arguments.last) == ["update", "dist-upgrade"])
        #expect(apt.map(\.lifetime) == [.boundToAilab, .runsToCompletion])
    }

    @Test func dryRunSaysHowOldTheListsAreAndLeavesThemAlone() async throws {
        let host = try Scratch()
        let lists = host.path + "/var/lib/apt/lists"
        try FileManager.default.createDirectory(atPath: lists, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: lists + "/deb.debian.org_debian_dists_bookworm_InRelease", contents: Data())
        let threeDaysAgo = Date(timeIntervalSince1970: 1_790_000_000 - 3 * 86400 - 7200)
        try FileManager.default.setAttributes(
            [.modificationDate: threeDaysAgo], ofItemAtPath: lists + "/deb.debian.org_debian_dists_bookworm_InRelease")
        let runner = runner(simulation: Self.libraryOnly)
        let report = try await run(runner, files: host)
        #expect(
            report.check("package lists")?.detail.hasPrefix("updated 3d 2h ago; --execute refreshes them") == true,
            "\(String(describing: report.check("package lists")))")
        #expect(!runner.calls.contains { $0.arguments.contains("update") })
    }

    @Test func executeVerifiesTheNextBootAndTheReboot() async throws {
        let host = try Scratch()
        try FileManager.default.createDirectory(atPath: host.path + "/run", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: host.path + "/run/reboot-required"))
        try Data("linux-image-6.8.0-51-generic\n".utf8).write(to: URL(fileURLWithPath: host.path + "/run/reboot-required.pkgs"))
        let runner = runner(simulation: Self.libraryOnly)
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=30", "update"], stdout: "")
        runner.on("apt-get", nil, stdout: "Setting up libfoo1 (1.1) ...\n")
        runner.on("apt-get", ["-s", "dist-upgrade"], stdout: Self.libraryOnly)
        runner.on(
            "dpkg-query", AptCommands(lockTimeout: 30).nvidiaPackages.arguments,
            stdout: "nvidia-driver-550\t550.127.05-0ubuntu1\tii \n")
        runner.on(
            "dpkg-query", ["-W", "-f", DpkgQuery.format, "linux-image-*"],
            stdout: "linux-image-6.8.0-45-generic\t6.8.0-45.45\tii \nlinux-image-6.8.0-51-generic\t6.8.0-51.52\tii \n")
        runner.install("needrestart")
        runner.on(
            "needrestart", ["-b"],
            stdout: "NEEDRESTART-VER: 3.6\nNEEDRESTART-SVC: systemd-manager\nNEEDRESTART-SVC: dbus.service\n"
                + "NEEDRESTART-SVC: prometheus-node-exporter.service\n")
        let report = try await run(runner, mode: .execute(interactive: false), files: host)
        #expect(report.exitStatus == .failed)
        #expect(report.check("next boot")?.detail.hasPrefix("do not reboot: 6.8.0-51-generic has no NVIDIA module") == true)
        #expect(
            report.check("reboot")?.detail
                == "reboot required by linux-image-6.8.0-51-generic (running 6.8.0-45-generic, newest installed 6.8.0-51-generic)")
        #expect(report.check("services")?.detail == "to restart: systemd-manager, dbus.service, prometheus-node-exporter.service")
        #expect(
            report.check("services")?.next
                == "when their users allow: sudo systemctl restart prometheus-node-exporter.service; "
                + "sudo systemctl daemon-reexec (systemd itself); leave dbus.service to the next reboot (a restart ends login sessions)")
        #expect(report.findings.metrics.first { $0.name == "ailab_reboot_required" }?.value == 1)
        #expect(runner.mutatingCalls.filter { $0.executable == "apt-get" }.count == 2)
    }
}
