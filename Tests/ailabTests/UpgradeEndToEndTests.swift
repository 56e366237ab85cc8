import AilabTestSupport
import Foundation
import Testing

/// ailab upgrade with the real apt-get over a synthetic database and a local repository built in
/// the test; dpkg is a recording stub, so an execute changes nothing on the machine.
@Suite(.timeLimit(.minutes(10))) struct UpgradeEndToEndTests {
    func requireTools() throws {
        try RealTools.requireRoot()
        try RealTools.require("apt-get", package: "apt")
        try RealTools.require("dpkg-deb", package: "dpkg")
        try RealTools.require("dpkg-scanpackages", package: "dpkg-dev")
    }

    typealias Package = SyntheticApt.Package

    static let installed: [Package] = [
        .init(name: "libfoo1", version: "1.0"),
        .init(name: "nvidia-driver-550", version: "550.90-0ubuntu1", auto: false),
        .init(name: "linux-image-6.8.0-45-generic", version: "6.8.0-45.45"),
        .init(name: "linux-modules-nvidia-550-6.8.0-45-generic", version: "6.8.0-45.45"),
        .init(name: "linux-image-generic", version: "6.8.0.45.45", depends: "linux-image-6.8.0-45-generic"),
        .init(name: "linux-generic", version: "6.8.0.45.45", depends: "linux-image-generic", auto: false),
        .init(name: "cuda-toolkit-12", version: "12.0", auto: false),
        .init(name: "libold", version: "1.0"),
    ]

    func json(_ outcome: Ailab.Outcome) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], "\(outcome.stdout)\(outcome.stderr)")
    }

    @Test func libraryUpgradeRunsThroughRealAptGet() throws {
        try requireTools()
        let apt = try SyntheticApt(Self.installed)
        try apt.serve([.init(name: "libfoo1", version: "1.1")])
        let dry = try Ailab.run(["upgrade", "--format", "json"], environment: apt.environment)
        #expect(dry.code == 0, "\(dry.stdout)\(dry.stderr)")
        let plan = try json(dry)
        #expect((plan["upgrades"] as? [[String: Any]])?.first?["name"] as? String == "libfoo1")
        #expect((plan["upgrades"] as? [[String: Any]])?.first?["from"] as? String == "1.0")
        #expect(!apt.dpkgWasCalledToChange)
        let executed = try Ailab.run(["upgrade", "--execute", "--non-interactive"], environment: apt.environment)
        #expect(executed.code == 0, "\(executed.stdout)\(executed.stderr)")
        #expect(apt.unpackedByDpkg == ["libfoo1"])
        let log = try String(contentsOfFile: apt.scratch.file("ailab-upgrade.log"), encoding: .utf8)
        #expect(
            log.contains(
                "run: apt-get -o DPkg::Lock::Timeout=300 -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade"
            ))
    }

    /// A security suite beside the normal one, each with its Release: only the security fix goes.
    @Test func securityOnlyTakesTheSecurityPocket() throws {
        try requireTools()
        let apt = try SyntheticApt(Self.installed + [.init(name: "libssl3", version: "3.0.11-1")])
        try apt.serve([.init(name: "libfoo1", version: "1.1")], as: "main", suite: "bookworm", label: "Debian", update: false)
        try apt.serve(
            [.init(name: "libssl3", version: "3.0.13-1~deb12u1")], as: "security", suite: "bookworm-security",
            label: "Debian-Security", update: true)
        let dry = try Ailab.run(["upgrade", "--security", "--format", "json"], environment: apt.environment)
        #expect(dry.code == 0, "\(dry.stdout)\(dry.stderr)")
        let plan = try json(dry)
        #expect((plan["upgrades"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["libssl3"])
        #expect((plan["waiting"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["libfoo1"])
        // After the rollback point's steps: the package step.
        let step = (plan["plan"] as? [[String: Any]])?.first {
            ($0["command"] as? [String])?.first == "apt-get" && ($0["command"] as? [String])?.contains("download") == false
        }
        #expect((step?["command"] as? [String])?.suffix(3) == ["install", "--only-upgrade", "libssl3=3.0.13-1~deb12u1"], "\(plan)")
        #expect((step?["purpose"] as? String)?.hasPrefix("upgrade the 1 package(s) with security fixes") == true)
        let executed = try Ailab.run(["upgrade", "--security", "--execute", "--non-interactive"], environment: apt.environment)
        #expect(executed.code == 0, "\(executed.stdout)\(executed.stderr)")
        #expect(executed.stdout.contains("security fixes only, 1 other upgrade(s) wait"), "\(executed.stdout)")
        #expect(apt.unpackedByDpkg == ["libssl3"])
    }

    @Test func driverUpgradeIsRefusedThenAllowed() throws {
        try requireTools()
        let apt = try SyntheticApt(Self.installed)
        try apt.serve([.init(name: "nvidia-driver-550", version: "550.127-0ubuntu1")])
        let refused = try Ailab.run(["upgrade", "--execute", "--non-interactive", "--format", "json"], environment: apt.environment)
        #expect(refused.code == 1)
        #expect(try json(refused)["driverPackages"] as? [String] == ["nvidia-driver-550"])
        #expect(!apt.dpkgWasCalledToChange)
        let allowed = try Ailab.run(["upgrade", "--execute", "--non-interactive", "--allow-driver-upgrade"], environment: apt.environment)
        #expect(allowed.code == 0, "\(allowed.stdout)")
        #expect(allowed.stdout.contains("a reboot is required afterwards"))
        #expect(allowed.stdout.contains("reboot required"))
        #expect(apt.unpackedByDpkg == ["nvidia-driver-550"])
    }

    /// The metapackage chain pulls in a new kernel image; /boot has room for it.
    @Test func newKernelThroughTheMetapackageChain() throws {
        try requireTools()
        let apt = try SyntheticApt(Self.installed)
        try apt.serve([
            .init(name: "linux-image-6.8.0-51-generic", version: "6.8.0-51.52"),
            .init(name: "linux-image-generic", version: "6.8.0.51.52", depends: "linux-image-6.8.0-51-generic"),
            .init(name: "linux-generic", version: "6.8.0.51.52", depends: "linux-image-generic"),
        ])
        let dry = try Ailab.run(["upgrade", "--format", "json"], environment: apt.environment)
        #expect(dry.code == 0, "\(dry.stdout)")
        let plan = try json(dry)
        #expect((plan["installs"] as? [[String: Any]])?.map { $0["name"] as? String } == ["linux-image-6.8.0-51-generic"])
        #expect(dry.stdout.contains("needed for 6.8.0-51-generic"))
    }

    /// After an upgrade the newest installed kernel needs an NVIDIA module, or the reboot loses the GPUs.
    @Test(arguments: [false, true])
    func nextBootWithAndWithoutAPrebuiltModule(withModule: Bool) throws {
        try requireTools()
        var installed = Self.installed + [.init(name: "linux-image-6.8.0-51-generic", version: "6.8.0-51.52")]
        if withModule { installed.append(.init(name: "linux-modules-nvidia-550-6.8.0-51-generic", version: "6.8.0-51.52")) }
        let apt = try SyntheticApt(installed)
        try apt.serve([.init(name: "libfoo1", version: "1.1")])
        let executed = try Ailab.run(["upgrade", "--execute", "--non-interactive"], environment: apt.environment)
        if withModule {
            #expect(executed.code == 0, "\(executed.stdout)")
            #expect(executed.stdout.contains("6.8.0-51-generic has the NVIDIA module from linux-modules-nvidia-550-6.8.0-51-generic"))
        } else {
            #expect(executed.code == 1)
            #expect(executed.stdout.contains("do not reboot: 6.8.0-51-generic has no NVIDIA module"))
        }
    }

    @Test func dependencyChangeThatRemovesAProtectedPackageIsRefused() throws {
        try requireTools()
        let apt = try SyntheticApt(Self.installed)
        try apt.serve([.init(name: "libold", version: "2.0", relations: "Breaks: cuda-toolkit-12 (<< 13)")])
        let refused = try Ailab.run(["upgrade", "--execute", "--non-interactive", "--format", "json"], environment: apt.environment)
        #expect(refused.code == 1)
        let object = try json(refused)
        #expect((object["removals"] as? [[String: Any]])?.first?["name"] as? String == "cuda-toolkit-12")
        #expect(refused.stdout.contains("refused: the upgrade would remove cuda-toolkit-12"))
        #expect(!apt.dpkgWasCalledToChange)
    }

    /// dpkg's lock held by another process: apt-get waits --lock-timeout seconds, then exit 1.
    @Test func heldLockEndsTheExecuteWithExit1InBoundedTime() throws {
        try requireTools()
        try RealTools.require("python3", package: "python3")
        let apt = try SyntheticApt(Self.installed)
        try apt.serve([.init(name: "libfoo1", version: "1.1")])
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = [
            "-c",
            "import fcntl,os,sys,time; fd=os.open(sys.argv[1],os.O_RDWR|os.O_CREAT); fcntl.lockf(fd,fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
            apt.admin + "/lock-frontend",
        ]
        let ready = Pipe()
        holder.standardOutput = ready
        try holder.run()
        defer {
            kill(holder.processIdentifier, SIGKILL)
            holder.waitUntilExit()
        }
        _ = ready.fileHandleForReading.availableData
        let started = Date()
        let outcome = try Ailab.run(["upgrade", "--execute", "--non-interactive", "--lock-timeout", "2"], environment: apt.environment)
        #expect(outcome.code == 1, "\(outcome.stdout)")
        #expect(outcome.stdout.contains("Could not get lock"), "\(outcome.stdout)")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(!apt.dpkgWasCalledToChange)
    }

    @Test(arguments: [("EXECUTE\n", Int32(0)), ("no\n", 2)])
    func typedConfirmation(answer: String, expected: Int32) throws {
        try requireTools()
        let apt = try SyntheticApt(Self.installed)
        try apt.serve([.init(name: "libfoo1", version: "1.1")])
        let outcome = try Ailab.run(["upgrade", "--execute"], environment: apt.environment, stdin: answer)
        #expect(outcome.code == expected, "\(outcome.stdout)\(outcome.stderr)")
        #expect(apt.dpkgWasCalledToChange == (expected == 0))
    }

    @Test func unprivilegedExecuteExits2() throws {
        try requireTools()
        try RealTools.require("setpriv", package: "util-linux")
        let outcome = try Command.run(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", Ailab.binary,
                "upgrade", "--execute", "--non-interactive",
            ])
        #expect(outcome.code == 2)
        #expect(outcome.stderr.contains("--execute needs root"))
    }
}
