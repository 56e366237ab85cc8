@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// dpkg's own output: what an interrupted run leaves, and the errors behind apt's last line.
@Suite(.timeLimit(.minutes(2))) struct DpkgStateTests {
    @Test func interruptedStatesFromRealDpkgQuery() throws {
        let packages = try DpkgQuery.parse(try Fixture.text("dpkg/dpkg-query-states.txt"))
        #expect(packages.map(\.name) == ["failpost", "halfway", "okpkg"])
        #expect(packages.map(\.interruptedState) == ["half-configured", "unpacked", nil])
    }

    /// ailab's reading agrees with dpkg's own audit of the same database.
    @Test func theSamePackagesDpkgAuditNames() throws {
        let audit = try Fixture.text("dpkg/dpkg-audit-unpacked-and-half-configured.txt")
        let audited = audit.split(separator: "\n").filter { $0.hasPrefix(" ") }.compactMap {
            $0.split(separator: " ").first.map(String.init)
        }
        let interrupted = try DpkgQuery.parse(try Fixture.text("dpkg/dpkg-query-states.txt")).filter { $0.interruptedState != nil }
        #expect(Set(audited) == Set(interrupted.map(\.name)))
    }

    @Test(
        arguments: [
            ("ii ", nil), ("rc ", nil), ("un ", nil), ("hi ", nil), ("iH ", "half-installed"), ("iW ", "triggers-awaited"),
            ("it ", "triggers-pending"), ("iUR", "reinstall required"),
        ] as [(String, String?)])
    func everyStateLetter(status: String, state: String?) {
        #expect(InstalledPackage(name: "x", version: "1", status: status).interruptedState == state)
    }

    @Test func checkNamesThePackagesAndTheFix() throws {
        let interrupted = try DpkgQuery.parse(try Fixture.text("dpkg/dpkg-query-states.txt")).filter { $0.interruptedState != nil }
        let check = InterruptedDpkg.check(interrupted)
        #expect(check.status == .failed)
        #expect(
            check.detail == "an interrupted dpkg left failpost 1.0-1 (half-configured), halfway 1.0-1 (unpacked); nothing can be "
                + "installed or upgraded until it is finished")
        #expect(check.next == "sudo dpkg --configure -a")
        #expect(InterruptedDpkg.check([]).status == .ok)
    }

    @Test func dpkgsOwnErrorIsReportedNotOnlyAptsLastLine() throws {
        let output = try Fixture.text("dpkg/dpkg-i-failing-postinst.txt") + "E: Sub-process /usr/bin/dpkg returned an error code (1)\n"
        let result = InvocationResult(invocation: Invocation("apt-get", ["-y", "dist-upgrade"]), termination: .exited(100), stdout: output)
        #expect(
            AptFailure.summary(result) == "apt-get -y dist-upgrade: exit 100: dpkg: error processing package failpost "
                + "(--install): installed failpost package post-installation script subprocess returned error exit status 1; "
                + "E: Sub-process /usr/bin/dpkg returned an error code (1)")
    }
}

/// Which candidates come from a security pocket, on apt's own origin strings.
@Suite(.timeLimit(.minutes(2))) struct SecurityOriginTests {
    static let bookworm = SecurityPockets(
        osRelease:
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\n"
            + "VERSION_CODENAME=bookworm\nID=debian\n")
    static let jammy = SecurityPockets(
        osRelease: "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\n"
            + "VERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=jammy\n")

    /// Only the host's own distribution and codename count, as unattended-upgrades' default
    /// patterns count them: a look-alike `*-security` suite of another origin never does.
    @Test(arguments: [
        ("Debian-Security:12/stable-security", true, false),
        ("Debian:12.15/oldstable, Debian-Security:12/stable-security", true, false),
        ("Debian-Security:11/oldstable-security", false, false),
        ("Debian:bookworm-security", true, false),
        ("Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security", false, true),
        ("UbuntuESMApps:22.04/jammy-apps-security", false, true),
        ("UbuntuESM:22.04/jammy-infra-security", false, true),
        ("Ubuntu:24.04/noble-security", false, false),
        ("Ubuntu:22.04/jammy-updates", false, false),
        ("Evil:1/evil-security", false, false),
        ("Evil:1/jammy-security", false, false),
        ("Debian:12.9/stable", false, false),
        ("localhost", false, false),
        ("", false, false),
    ])
    func origin(origin: String, onBookworm: Bool, onJammy: Bool) throws {
        let change = PackageChange(name: "x", from: "1", to: "2", origin: origin)
        #expect(try #require(Self.bookworm).contains(change) == onBookworm)
        #expect(try #require(Self.jammy).contains(change) == onJammy)
    }

    @Test func osReleaseWithoutACodenameGivesNoPockets() {
        #expect(SecurityPockets(osRelease: "ID=debian\nVERSION_ID=12\n") == nil)
        #expect(Self.bookworm == SecurityPockets(osRelease: "ID=debian\nVERSION_CODENAME=bookworm\nVERSION_ID=\"12\"\n"))
    }

    /// A candidate in both suites counts as a security fix, as unattended-upgrades counts it.
    @Test func capturedLocalSecurityPocket() throws {
        let simulation = UpgradeSimulation.parse(try Fixture.text("apt/apt-get-s-dist-upgrade-security-pocket-bookworm.txt"))
        #expect(simulation.upgrades.map(\.name) == ["libfoo1", "libssl3", "tzdata"])
        #expect(try simulation.upgrades.map(try #require(Self.bookworm).contains) == [false, true, true])
        #expect(simulation.upgrades[2].origin == "Debian:bookworm, Debian-Security:bookworm-security")
    }

    @Test func capturedJammyUpdatesAreNotSecurityFixes() throws {
        let simulation = UpgradeSimulation.parse(try Fixture.text("apt/apt-get-s-dist-upgrade-jammy-apt-rsync.txt"))
        let jammy = try #require(Self.jammy)
        #expect(!simulation.upgrades.isEmpty)
        #expect(simulation.upgrades.allSatisfy { $0.origin.contains("jammy-updates") && !jammy.contains($0) })
    }
}

/// NVIDIA's driver under both naming schemes, for the driver guard and the kernel guards.
@Suite(.timeLimit(.minutes(2))) struct DriverPackageNameTests {
    @Test(arguments: [
        "nvidia-driver-550", "nvidia-dkms-550-open", "libnvidia-compute-550", "nvidia-utils-550-server",
        "nvidia-driver", "nvidia-dkms", "nvidia-dkms-open", "nvidia-open", "cuda-drivers", "cuda-drivers-590",
        "libnvidia-compute", "nvidia-kernel-common", "nvidia-kernel-open-dkms", "nvidia-driver-pinning-590",
        "xserver-xorg-video-nvidia", "linux-modules-nvidia-590-open-6.8.0-51-generic",
    ])
    func isTheDriver(name: String) {
        #expect(UpgradeGuards.isDriverPackage(name))
    }

    @Test(arguments: [
        "nvidia-container-toolkit", "libnvidia-container1", "cuda-toolkit-12-4", "cuda-driver-dev-12-4",
        "nvidia-openjdk", "nvidia-docker2", "linux-image-6.8.0-51-generic",
    ])
    func isNotTheDriver(name: String) {
        #expect(!UpgradeGuards.isDriverPackage(name))
    }

    @Test func kernelGuardsQueryTheUnsuffixedNamesToo() {
        let patterns = AptCommands(lockTimeout: 1).nvidiaPackages.arguments
        for name in ["nvidia-driver", "nvidia-dkms", "nvidia-open", "cuda-drivers", "nvidia-dkms-*", "linux-modules-nvidia-*"] {
            #expect(patterns.contains(name), "\(name)")
        }
    }

    @Test func unsuffixedDriverUpgradeIsRefused() async throws {
        let runner = UpgradeTaskTests().runner(
            simulation: "Inst nvidia-driver [590.44.01-1] (590.48.01-1 cuda-ubuntu2404-x86_64:/ [amd64])\n"
                + "Inst nvidia-dkms-open [590.44.01-1] (590.48.01-1 cuda-ubuntu2404-x86_64:/ [amd64])\n")
        runner.on("nvidia-smi", stdout: "")
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=30", "update"], stdout: "")
        let report = try await UpgradeTaskTests().run(runner, mode: .execute(interactive: false))
        #expect(report.check("driver")?.status == .failed)
        #expect(report.check("driver")?.detail.contains("nvidia-driver 590.44.01-1 → 590.48.01-1, nvidia-dkms-open") == true)
        #expect(runner.mutatingCalls.map(\.arguments.last) == ["update"])
    }
}

/// The package tasks on a host an interrupted dpkg left half-way, and during a signal.
@Suite(.timeLimit(.minutes(2))) struct PackageChangeTaskTests {
    static let halfConfigured = "libfoo1\t1.0\tii \nslowpkg\t1.0\tiF \n"

    @Test func everyPackageTaskRefusesToPlanOverAnInterruptedDpkg() async throws {
        for mode in [RunMode.dryRun, .execute(interactive: false)] {
            let upgrade = UpgradeTaskTests().runner(simulation: UpgradeTaskTests.libraryOnly)
            upgrade.on("dpkg-query", AptCommands.packageStates.arguments, stdout: Self.halfConfigured)
            upgrade.on("apt-get", ["-o", "DPkg::Lock::Timeout=30", "update"], stdout: "")
            let report = try await UpgradeTaskTests().run(upgrade, mode: mode)
            #expect(report.exitStatus == .failed)
            #expect(report.check("dpkg")?.next == "sudo dpkg --configure -a")
            #expect(!upgrade.mutatingCalls.contains { $0.lifetime == .runsToCompletion })

            for task in [AptCleanupTask(mode: mode, lockTimeout: 1) as any MaintenanceTask, KernelCleanupTask(mode: mode, lockTimeout: 1)] {
                let runner = PackageTaskTests().runner(simulation: "Purg libold [1.0]\n")
                runner.on("dpkg-query", AptCommands.packageStates.arguments, stdout: Self.halfConfigured)
                runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=1", "update"], stdout: "")
                let fake = try FakeContext(kernel: "6.8.0-45-generic", runner: runner, records: .stateFolder)
                let refused = await TaskHarness.run(task, in: fake.context)
                #expect(refused.exitStatus == .failed, "\(task.name)")
                #expect(refused.check("dpkg")?.detail.contains("slowpkg 1.0 (half-configured)") == true)
                #expect(!runner.mutatingCalls.contains { $0.lifetime == .runsToCompletion })
            }
        }
    }

    /// A signal while dpkg runs: the step is left to finish, the log says so, nothing follows, exit 1.
    @Test func signalDuringThePackageStepLetsItFinishAndStartsNothingMore() async throws {
        let children = LiveChildren()
        let runner = UpgradeTaskTests().runner(simulation: UpgradeTaskTests.libraryOnly)
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=30", "update"], stdout: "")
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=30"] + AptCommands.keepConfiguration + ["dist-upgrade"]) { invocation in
            #expect(children.interrupt(), "a package step must be waited for")
            #expect(children.isCompletingAStep)
            return InvocationResult(invocation: invocation, termination: .exited(0), stdout: "Setting up libfoo1 (1.1) ...\n")
        }
        let fake = try FakeContext(kernel: "6.8.0-45-generic", runner: runner, records: .stateFolder)
        var context = fake.context
        context.children = children
        let report = await TaskHarness.run(
            UpgradeTask(
                mode: .execute(interactive: false), lockTimeout: 30, allowDriverUpgrade: false,
                keepPoints: AilabConfig.defaults.upgradeKeepPoints.value, keepBytes: AilabConfig.defaults.upgradeKeepBytes.value),
            in: context)
        #expect(report.exitStatus == .failed)
        #expect(report.check("dist-upgrade")?.status == .ok)
        #expect(
            report.check("interrupted")?.detail.contains("it was left to finish (it succeeded), and no further step was started") == true)
        #expect(report.checks.filter { $0.name == "interrupted" }.count == 1)
        #expect(!children.isCompletingAStep)
        // The verification after the upgrade (dpkg-query for the next boot's driver) never started.
        #expect(!runner.calls.contains { $0.arguments.contains("linux-image-*") })
        #expect(fake.log("upgrade").contains("interrupted: " + LiveChildren.completionNotice))
    }

    @Test func packageStepsRunToCompletionAndTheRestStayBound() {
        let commands = AptCommands(lockTimeout: 1)
        func lifetime(_ step: PlanStep) -> Lifetime? {
            guard case .run(let invocation) = step.action else { return nil }
            return invocation.lifetime
        }
        #expect(lifetime(commands.distUpgrade) == .runsToCompletion)
        #expect(lifetime(commands.autoremove([])) == .runsToCompletion)
        #expect(lifetime(commands.securityUpgrade([])) == .runsToCompletion)
        #expect(lifetime(commands.update) == .boundToAilab)
        #expect(lifetime(commands.autoclean) == .boundToAilab)
        #expect(commands.simulateDistUpgrade.lifetime == .boundToAilab)
    }
}

/// `upgrade --security` on the fake runner: only the security set, at its versions.
@Suite(.timeLimit(.minutes(2))) struct SecurityUpgradeTests {
    static let mixed =
        "Inst libssl3 [3.0.11-1] (3.0.13-1 Debian-Security:12/stable-security [amd64])\n"
        + "Inst nginx [1.22.1-9] (1.22.1-9+deb12u1 Debian:12.5/stable [amd64])\n"
        + "Inst tzdata [2024a-0] (2024b-0+deb12u1 Debian:12.6/stable [all])\n"

    func runner(narrowed: String) -> FakeRunner {
        let runner = UpgradeTaskTests().runner(simulation: Self.mixed)
        runner.on("apt-get", ["-s", "install", "--only-upgrade", "libssl3=3.0.13-1"], stdout: narrowed)
        return runner
    }

    @Test func dryRunPlansTheSecurityFixesAndCountsWhatWaits() async throws {
        let runner = runner(narrowed: "Inst libssl3 [3.0.11-1] (3.0.13-1 Debian-Security:12/stable-security [amd64])\n")
        let report = try await UpgradeTaskTests().run(runner, security: true)
        #expect(report.exitStatus == .ok)
        #expect(
            report.findings.plan.map(\.line).filter { $0.hasPrefix("apt-get") } == [
                "apt-get -o DPkg::Lock::Timeout=30 -y -o Dpkg::Options::=--force-confdef -o "
                    + "Dpkg::Options::=--force-confold install --only-upgrade libssl3=3.0.13-1  # upgrade the 1 package(s) with security fixes, "
                    + "keeping changed configuration files"
            ])
        #expect(report.check("simulation")?.detail.hasSuffix("security fixes only, 2 other upgrade(s) wait") == true)
        #expect(report.findings.data["waiting"].map { "\($0)" }?.contains("nginx") == true)
        #expect(runner.mutatingCalls.isEmpty)
    }

    @Test func aFixThatDragsInAnotherOriginIsRefused() async throws {
        let runner = runner(
            narrowed: "Inst libssl3 [3.0.11-1] (3.0.13-1 Debian-Security:12/stable-security [amd64])\n"
                + "Inst nginx [1.22.1-9] (1.22.1-9+deb12u1 Debian:12.5/stable [amd64])\n")
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=30", "update"], stdout: "")
        let report = try await UpgradeTaskTests().run(runner, mode: .execute(interactive: false), security: true)
        #expect(report.exitStatus == .failed)
        #expect(report.check("security only")?.detail.hasPrefix("refused: the security fixes also need nginx") == true)
        #expect(runner.mutatingCalls.map(\.arguments.last) == ["update"])
    }

    /// Another origin's suite named `*-security` is no security fix: it waits, and the plan says so.
    @Test func aLookAlikeSecurityOriginIsNotASecurityFix() async throws {
        let runner = UpgradeTaskTests().runner(
            simulation:
                "Inst evil [1.0] (1.1 Evil\u{1b}[31m:1/evil-security [amd64])\nInst nginx [1.22.1-9] (1.22.1-9+deb12u1 Debian:12.5/stable [amd64])\n"
        )
        let report = try await UpgradeTaskTests().run(runner, security: true)
        #expect(report.findings.plan.isEmpty)
        #expect(report.check("security only")?.detail == "no security fix is pending")
        #expect(
            report.findings.notes.contains(
                "Not security fixes (not Debian bookworm's security pockets):\n  evil 1.1 (Evil\u{1b}[31m:1/evil-security)"))
        // The note keeps the raw Label (JSON carries it); the text report escapes it.
        #expect(TextRenderer(colour: false).render(report).contains("evil 1.1 (Evil\\x1b[31m:1/evil-security)"))
    }

    @Test func nothingToFixPlansNothing() async throws {
        let runner = UpgradeTaskTests().runner(simulation: "Inst nginx [1.22.1-9] (1.22.1-9+deb12u1 Debian:12.5/stable [amd64])\n")
        let report = try await UpgradeTaskTests().run(runner, security: true)
        #expect(report.exitStatus == .ok)
        #expect(report.findings.plan.isEmpty)
        #expect(report.check("security only")?.detail == "no security fix is pending")
    }
}
