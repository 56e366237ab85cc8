@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct AptSimulationTests {
    @Test func trustyRemvLines() throws {
        let removals = AptSimulation.removals(try Fixture.text("apt/apt-get-s-autoremove-linux-image-3.13-trusty.txt"))
        #expect(removals.map(\.name) == ["linux-image-extra-3.13.0-32-generic", "linux-image-3.13.0-32-generic", "python-appindicator"])
        #expect(removals[1] == PackageRemoval(name: "linux-image-3.13.0-32-generic", version: "3.13.0-32.57", purge: false))
    }

    @Test func apt3FormatWithColumnsAndSummary() throws {
        let removals = AptSimulation.removals(try Fixture.text("apt/apt3-s-autoremove-realtime-kernel-plucky.txt"))
        #expect(removals.count == 12)
        #expect(removals.contains(PackageRemoval(name: "linux-image-6.11.0-1001-realtime", version: "6.11.0-1001.1", purge: false)))
        #expect(!removals.contains { $0.name == "REMOVING:" || $0.name == "Summary:" })
    }

    @Test func capturedPurgeOfTheOldestKernel() throws {
        let removals = AptSimulation.removals(try Fixture.text("apt/apt-get-s-autoremove-purge-three-kernels-synthetic.txt"))
        #expect(removals == [PackageRemoval(name: "linux-image-6.8.0-40-generic", version: "6.8.0-40.40", purge: true)])
    }

    @Test func aRealRunPromptIsNotASimulation() throws {
        #expect(AptSimulation.removals(try Fixture.text("apt/apt-get-autoremove-prompt-linux-4.4-xenial.txt")).isEmpty)
    }

    @Test func architectureSuffixIsDropped() {
        #expect(AptSimulation.removals("Purg nvidia-dkms-535:amd64 [535.183.01]").first?.name == "nvidia-dkms-535")
    }

    @Test func autocleanDelLines() {
        let archives = AptSimulation.cleanedArchives("Reading package lists...\nDel libfoo1 1.2-3 [123 kB]\nDel bar 2.0 [1 MB]\n")
        #expect(archives == ["libfoo1 1.2-3", "bar 2.0"])
    }

    @Test func dpkgQueryRows() throws {
        let rows = try DpkgQuery.parse("linux-image-6.8.0-40-generic\t6.8.0-40.40\tii \nlinux-image-6.8.0-31-generic\t6.8.0-31.31\trc \n")
        #expect(rows.map(\.isInstalled) == [true, false])
        #expect(throws: ParseError.self) { try DpkgQuery.parse("garbage") }
    }
}

@Suite(.timeLimit(.minutes(2))) struct PackageGuardTests {
    static func survey(installed: [String], removed: [String], running: String = "6.8.0-47-generic") -> PackageSurvey {
        PackageSurvey(
            simulation: "", removals: removed.map { PackageRemoval(name: $0, version: "1", purge: true) },
            installedImages: installed.map { InstalledPackage(name: $0, version: "1", status: "ii ") },
            runningKernel: running)
    }

    @Test(
        arguments: [
            ("linux-image-6.8.0-45-generic", "6.8.0-45-generic"),
            ("linux-image-unsigned-6.8.0-45-generic", "6.8.0-45-generic"),
            ("linux-image-5.15.0-1045-nvidia", "5.15.0-1045-nvidia"),
            ("linux-image-generic", nil),
            ("linux-image-generic-hwe-22.04", nil),
            ("linux-image-extra-3.13.0-32-generic", nil),
            ("linux-headers-6.8.0-45-generic", nil),
        ] as [(String, String?)])
    func versionedImagesAreRecognised(name: String, release: String?) {
        #expect(PackageRules.kernelRelease(ofImage: name) == release)
    }

    @Test(arguments: [
        ("nvidia-driver-535", true), ("nvidia-dkms-535", true), ("libnvidia-compute-535", true), ("cuda-toolkit-12-4", true),
        ("zfs-dkms", true), ("docker.io", true), ("docker-ce", true), ("containerd.io", true), ("libvirt-daemon", true),
        ("qemu-system-x86", true), ("linux-modules-nvidia-535-6.8.0-40-generic", false),
        ("linux-objects-nvidia-535-6.8.0-40-generic", false), ("linux-image-6.8.0-40-generic", false), ("python3-docker", false),
    ])
    func protectedStack(name: String, protected: Bool) {
        #expect(PackageRules.isProtected(name) == protected)
    }

    @Test func twoKernelsMustRemain() {
        let ok = Self.survey(
            installed: ["linux-image-6.8.0-40-generic", "linux-image-6.8.0-45-generic", "linux-image-6.8.0-47-generic"],
            removed: ["linux-image-6.8.0-40-generic"])
        #expect(ok.allowed)
        let tooFew = Self.survey(
            installed: ["linux-image-6.8.0-45-generic", "linux-image-6.8.0-47-generic"],
            removed: ["linux-image-6.8.0-45-generic"])
        #expect(!tooFew.allowed)
        #expect(tooFew.guardCheck("kernel guard")?.status == .failed)
    }

    @Test func unsignedImagesCount() {
        let survey = Self.survey(
            installed: ["linux-image-unsigned-6.8.0-40-generic", "linux-image-6.8.0-45-generic", "linux-image-6.8.0-47-generic"],
            removed: ["linux-image-6.8.0-45-generic"])
        #expect(survey.installedKernels.count == 3)
        #expect(survey.remainingKernels == ["linux-image-unsigned-6.8.0-40-generic", "linux-image-6.8.0-47-generic"])
        #expect(survey.allowed)
    }

    @Test func runningKernelMustStay() {
        let survey = Self.survey(
            installed: ["linux-image-6.8.0-40-generic", "linux-image-6.8.0-45-generic", "linux-image-6.8.0-47-generic"],
            removed: ["linux-image-6.8.0-47-generic"], running: "6.8.0-47-generic")
        #expect(!survey.allowed)
        #expect(survey.guardCheck("running kernel")?.status == .failed)
    }

    @Test func protectedRemovalIsRefusedWithTheApt_markHint() {
        let survey = Self.survey(installed: [], removed: ["nvidia-dkms-535", "libfoo"])
        #expect(!survey.allowed)
        #expect(survey.guardCheck("protected packages")?.next?.contains("apt-mark manual nvidia-dkms-535") == true)
    }

    @Test func nothingRemovedOnASingleKernelHostIsAllowed() {
        #expect(Self.survey(installed: ["linux-image-6.8.0-47-generic"], removed: ["libfoo"]).allowed)
    }
}

/// The package tasks on the fake runner: guards, plans and the gate.
@Suite(.timeLimit(.minutes(2))) struct PackageTaskTests {
    static let threeKernels =
        "linux-image-6.8.0-40-generic\t6.8.0-40.40\tii \nlinux-image-6.8.0-45-generic\t6.8.0-45.45\tii \nlinux-image-6.8.0-47-generic\t6.8.0-47.47\tii \n"

    func runner(simulation: String, images: String = threeKernels) -> FakeRunner {
        let runner = FakeRunner()
        runner.on("apt-get", ["-s", "autoremove", "--purge"], stdout: simulation)
        runner.on("apt-get", ["-s", "autoclean"], stdout: "Reading package lists...\n")
        runner.on("dpkg-query", stdout: images)
        runner.on("apt-config", stdout: "LISTS='/nonexistent/'\n")
        runner.on(
            "df", ["-P", "-B1", "/boot"],
            stdout: "Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/sda1 1024000000 512000000 512000000 50% /boot\n")
        return runner
    }

    @Test func dryRunShowsThePlanAndStartsNothingMutating() async throws {
        let fake = try FakeContext(
            kernel: "6.8.0-47-generic", runner: runner(simulation: "Purg linux-image-6.8.0-40-generic [6.8.0-40.40]\n"), answer: "EXECUTE")
        let report = await TaskHarness.run(AptCleanupTask(mode: .dryRun, lockTimeout: 300), in: fake.context)
        #expect(report.exitStatus == .ok)
        #expect(report.dryRun == true)
        #expect(report.findings.plan.count == 2)
        #expect(fake.runner.mutatingCalls.isEmpty)
        #expect(!fake.confirmation.asked)
        #expect(fake.log("apt-cleanup").contains("Purg linux-image-6.8.0-40-generic"))
    }

    @Test func executeRunsTheThreeStepsWithLockTimeoutAndEnvironment() async throws {
        let runner = runner(simulation: "Purg linux-image-6.8.0-40-generic [6.8.0-40.40]\n")
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=7", "update"], stdout: "")
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=7", "-y", "autoremove", "--purge"], stdout: "")
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=7", "autoclean"], stdout: "")
        let fake = try FakeContext(kernel: "6.8.0-47-generic", runner: runner, answer: "EXECUTE")
        let report = await TaskHarness.run(AptCleanupTask(mode: .execute(interactive: true), lockTimeout: 7), in: fake.context)
        #expect(report.exitStatus == .ok)
        #expect(
            fake.runner.mutatingCalls.map(\.arguments) == [
                ["-o", "DPkg::Lock::Timeout=7", "update"],
                ["-o", "DPkg::Lock::Timeout=7", "-y", "autoremove", "--purge"],
                ["-o", "DPkg::Lock::Timeout=7", "autoclean"],
            ])
        #expect(
            fake.runner.mutatingCalls.allSatisfy {
                $0.environment == ["DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_MODE": "l"]
            })
    }

    @Test(arguments: [
        "Purg nvidia-dkms-535 [535.183.01]\n",
        "Purg linux-image-6.8.0-40-generic [1]\nPurg linux-image-6.8.0-45-generic [1]\n",
        "Purg linux-image-6.8.0-47-generic [1]\n",
    ])
    func refusalInDryRunAndExecuteAlike(simulation: String) async throws {
        for mode in [RunMode.dryRun, .execute(interactive: false)] {
            for task in [AptCleanupTask(mode: mode, lockTimeout: 1) as any MaintenanceTask, KernelCleanupTask(mode: mode, lockTimeout: 1)] {
                let runner = runner(simulation: simulation)
                runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=1", "update"], stdout: "")
                let fake = try FakeContext(kernel: "6.8.0-47-generic", runner: runner)
                let report = await TaskHarness.run(task, in: fake.context)
                #expect(report.exitStatus == .failed, "\(task.name) \(mode)")
                #expect(fake.runner.mutatingCalls.allSatisfy { $0.arguments.last == "update" })
            }
        }
    }

    @Test func heldLockFailsWithTheHolder() async throws {
        let runner = runner(simulation: "Purg linux-image-6.8.0-40-generic [6.8.0-40.40]\n")
        runner.on(
            "apt-get", ["-o", "DPkg::Lock::Timeout=300", "-y", "autoremove", "--purge"],
            stderr:
                "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n",
            exit: 100)
        let fake = try FakeContext(kernel: "6.8.0-47-generic", runner: runner)
        let report = await TaskHarness.run(KernelCleanupTask(mode: .execute(interactive: false), lockTimeout: 300), in: fake.context)
        #expect(report.exitStatus == .failed)
        #expect(report.check("autoremove")?.detail.contains("held by process 4242") == true)
        // A held lock is waited out, not repaired: no "dpkg --configure -a" for it.
        #expect(
            report.check("autoremove")?.next == "wait for the process it names to finish (or raise --lock-timeout), then run the task again"
        )
    }

    @Test func executePlansOnTheListsItRefreshedFirst() async throws {
        let runner = runner(simulation: "")
        let updated = Counter()
        runner.on("apt-get", ["-s", "autoremove", "--purge"]) { invocation in
            InvocationResult(
                invocation: invocation, termination: .exited(0),
                stdout: updated.value > 0
                    ? "Purg linux-image-6.8.0-40-generic [6.8.0-40.40]\n" : "")
        }
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=300", "update"]) { invocation in
            _ = updated.next()
            return InvocationResult(invocation: invocation, termination: .exited(0))
        }
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=300", "-y", "autoremove", "--purge"], stdout: "")
        runner.on("apt-get", ["-o", "DPkg::Lock::Timeout=300", "autoclean"], stdout: "")
        let fake = try FakeContext(kernel: "6.8.0-47-generic", runner: runner, answer: "EXECUTE")
        let report = await TaskHarness.run(AptCleanupTask(mode: .execute(interactive: true), lockTimeout: 300), in: fake.context)
        #expect(report.exitStatus == .ok)
        #expect(report.check("autoremove simulation")?.detail.contains("linux-image-6.8.0-40-generic") == true)
        // The prompt names what it purges, before EXECUTE is typed (not only in the report after it).
        #expect(fake.confirmation.prompt?.contains("purge 1 unused package(s): linux-image-6.8.0-40-generic") == true)
        let order = fake.runner.calls.map { $0.arguments.last ?? "" }
        #expect(order.firstIndex(of: "update") ?? 99 < order.firstIndex(of: "--purge") ?? -1)
        #expect(!fake.runner.calls.contains { $0.executable == "apt-config" })
    }

    @Test func wrongAnswerChangesNothingAndExits2() async throws {
        let fake = try FakeContext(
            kernel: "6.8.0-47-generic", runner: runner(simulation: "Purg linux-image-6.8.0-40-generic [6.8.0-40.40]\n"), answer: "yes")
        #expect(
            await TaskHarness.run(KernelCleanupTask(mode: .execute(interactive: true), lockTimeout: 300), in: fake.context).stoppedBy
                == AilabError.usage("aborted: confirmation not given"))
        #expect(fake.runner.mutatingCalls.isEmpty)
    }

    @Test func unprivilegedExecuteExits2BeforeAnythingRuns() async throws {
        let fake = try FakeContext(kernel: "6.8.0-47-generic", runner: runner(simulation: ""), root: false)
        #expect(
            await TaskHarness.run(AptCleanupTask(mode: .execute(interactive: false), lockTimeout: 300), in: fake.context).stoppedBy != nil)
        #expect(fake.runner.calls.isEmpty)
    }

    @Test func missingAptGetIsAMissingDependency() async throws {
        let fake = try FakeContext()
        fake.runner.install("dpkg-query")
        #expect(
            await TaskHarness.run(AptCleanupTask(mode: .dryRun, lockTimeout: 300), in: fake.context).stoppedBy
                == AilabError.usage("missing required command apt-get (install the apt package)"))
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int { lock.withLock { count } }

    func next() -> Int {
        lock.withLock {
            defer { count += 1 }
            return count
        }
    }
}

extension PackageSurvey {
    func guardCheck(_ name: String) -> Check? { guardChecks.first { $0.name == name } }
}
