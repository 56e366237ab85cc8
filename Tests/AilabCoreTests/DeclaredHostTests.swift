@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The declared host, goss-style: each kind's parser on real output, and its decision on the fake
/// context, with every wrong value failing its own check and named in it.
@Suite(.timeLimit(.minutes(2))) struct DeclaredHostTests {
    // MARK: parsers

    @Test func mountinfoGivesTheVisibleMountWithBothOptionLists() throws {
        let mounts = MountInfo.parse(try Fixture.text("proc/mountinfo-firecracker.txt"))
        #expect(mounts.count == 20)
        let visible = MountInfo.visible(mounts)
        #expect(
            visible["/"]
                == Mount(
                    path: "/", fstype: "ext4", source: "/dev/vda",
                    options: ["rw", "relatime", "discard", "resv_strict", "resuid=65534", "resgid=65534"]))
        // Mounted twice: the later one is what a path reaches.
        #expect(mounts.filter { $0.path == "/dev/pts" }.count == 2)
        // The kernel's own example (Documentation/filesystems/proc.rst), with an optional field.
        #expect(
            MountInfo.parse("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n")
                == [Mount(path: "/mnt2", fstype: "ext3", source: "/dev/root", options: ["rw", "noatime", "errors=continue"])])
        #expect(MountInfo.parse("40 22 0:50 / /srv/lab\\040data rw - nfs4 nas:/export\\011x rw,vers=4.2\n").first?.path == "/srv/lab data")
        #expect(MountInfo.parse("no separator here\n").isEmpty)
    }

    @Test func accountsThatMayLogInNeedAShellAndAUsablePassword() {
        let passwd = """
            root:x:0:0:root:/root:/bin/bash
            daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
            alice:x:1000:1000:Alice:/home/alice:/bin/bash
            bob:x:1001:1001::/home/bob:/bin/bash
            carol:x:1002:1002::/home/carol:/bin/zsh
            dave:x:1003:1003::/home/dave:/bin/bash
            old:x:1004:1004::/home/old:/bin/bash
            """
        let shadow = """
            root:!:20228:0:99999:7:::
            daemon:*:20228:0:99999:7:::
            alice:$y$j9T$abc$def:20228:0:99999:7:::
            bob:!$6$salt$hash:20228:0:99999:7:::
            carol::20228:0:99999:7:::
            old:$6$salt$hash:20228:0:99999:7::20000:
            """
        let shells = Account.shells("# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n/usr/bin/bash\n")
        let able = Account.parse(passwd: passwd, shadow: shadow).filter { $0.canLogIn(shells: shells, day: 20400) }
        // root locked, daemon nologin, bob locked, carol's zsh is not a listed shell, dave has no
        // shadow line, old expired on day 20000.
        #expect(able.map(\.name) == ["alice"])
        let carol = Account.parse(passwd: passwd, shadow: shadow).first { $0.name == "carol" }
        #expect(carol?.hasUsablePassword == true && carol?.password == "")
    }

    @Test func opensslEndDateIsReadInUTC() {
        // `openssl x509 -noout -enddate` on Debian 12's ISRG Root X1 (OpenSSL 3.0).
        #expect(CertificateDates.notAfter("notAfter=Jun  4 11:04:38 2035 GMT\n")?.timeIntervalSince1970 == 2_064_567_878)
        #expect(CertificateDates.notAfter("notAfter=Jun 31 bogus\n") == nil)
        #expect(CertificateDates.notAfter("unable to load certificate\n") == nil)
    }

    @Test func captureGlobsPinTheMajorVersion() {
        #expect(HostCapture.majorGlob("550.54.15-0ubuntu0.22.04.1") == "550.*")
        #expect(HostCapture.majorGlob("12.4.1-1") == "12.*")
        #expect(HostCapture.majorGlob("1:2.3-1") == "1:2.*")
        #expect(HostCapture.majorGlob("6.8.0-45.45") == "6.*")
        #expect(HostCapture.majorGlob("20240101") == "20240101")
        #expect(IPAddress.canonical("fd00:0:0::5") == "fd00::5")
        #expect(IPAddress.canonical("10.0.0.256") == nil)
    }

    /// Whatever a host holds, a captured value reads back as the same text.
    @Test func capturedValuesReadBackAsTheSameText() throws {
        for value in [
            "/", "/srv/lab data", "nas:/export", "550.*", "vers=4.2", "22/tcp", "010", "yes", "on", "1.5", "a: b", "#x", "x #y",
            "it's", "\"q\"", "back\\slash", "-o", "[x]", "{y}", "~", "2026-01-01", "tab\there",
        ] {
            let document = "k: " + HostCapture.scalar(value) + "\n- " + HostCapture.scalar(value)
            let key = try ConfigYAML.parse("k: " + HostCapture.scalar(value) + "\n")
            #expect(
                key == .mapping([.init(key: .init(value: .text("k"), line: 1), value: .scalar(.text(value)), valueLine: 1)]), "\(document)")
            let asKey = try #require(try? ConfigYAML.parse(HostCapture.scalar(value) + ": 1\n"), "\(value) as a key")
            guard case .mapping(let entries) = asKey else {
                Issue.record("\(value) as a key")
                continue
            }
            #expect(entries.first?.key.text == value)
        }
    }

    // MARK: decisions

    @Test func packagesArePinnedByGlobInstalledOrAbsent() async throws {
        let host = try HealthyHost()
        var expect = Expectations()
        expect.packages = [
            .init(name: "nvidia-driver-550", wanted: .version("550.*")), .init(name: "cuda-toolkit-12-4", wanted: .version("12.5.*")),
            .init(name: "nvidia-driver-535", wanted: .absent), .init(name: "htop", wanted: .installed),
            .init(name: "libnvidia-compute-550:amd64", wanted: .version("550.*")),
        ]
        host.runner.on(
            "dpkg-query",
            [
                "-W", "-f", DpkgQuery.format, "--", "nvidia-driver-550", "cuda-toolkit-12-4", "nvidia-driver-535", "htop",
                "libnvidia-compute-550",
            ],
            stdout: """
                nvidia-driver-550\t550.54.15-0ubuntu0.22.04.1\tii 
                cuda-toolkit-12-4\t12.4.1-1\tii 
                nvidia-driver-535\t535.183.01-0ubuntu0.22.04.1\trc 
                libnvidia-compute-550\t550.54.15-0ubuntu0.22.04.1\tii 

                """, stderr: "dpkg-query: no packages found matching htop\n", exit: 1)
        let found = try await host.report(expectations: expect).checks(in: "expectations")
        #expect(found["package nvidia-driver-550"]?.status == .ok)
        #expect(found["package nvidia-driver-550"]?.detail == "550.54.15-0ubuntu0.22.04.1")
        #expect(found["package cuda-toolkit-12-4"]?.status == .failed)
        #expect(found["package cuda-toolkit-12-4"]?.detail == "is 12.4.1-1, expected 12.5.*")
        #expect(found["package nvidia-driver-535"]?.status == .ok, "config files left are not an installed package")
        #expect(found["package htop"]?.detail == "not installed")
        #expect(found["package libnvidia-compute-550:amd64"]?.status == .ok)
    }

    @Test func filesAreJudgedByModeOwnerGroupDigestAndTextWithoutShowingThem() async throws {
        let host = try HealthyHost()
        try host.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n")
        try host.write("/etc/group", "root:x:0:\nshadow:x:42:\n")
        try host.write("/etc/lab/token", "TOKEN=s3cr3t-value\n")
        try host.write("/etc/lab/app.conf", "listen 0.0.0.0\n")
        chmod(host.root.path + "/etc/lab/token", 0o644)
        var expect = Expectations()
        var token = Expectations.FileRule(path: "/etc/lab/token")
        (token.mode, token.owner, token.group, token.contains) = (0o600, "root", "shadow", "TOKEN=other")
        var config = Expectations.FileRule(path: "/etc/lab/app.conf")
        config.sha256 = String(repeating: "a", count: 64)
        var missing = Expectations.FileRule(path: "/etc/lab/absent")
        missing.mode = 0o644
        expect.files = [token, config, missing]
        host.runner.on("sha256sum", ["-"], stdout: String(repeating: "b", count: 64) + "  -\n")
        let found = try await host.report(expectations: expect).checks(in: "expectations")
        let tokenCheck = try #require(found["file /etc/lab/token"])
        #expect(tokenCheck.status == .failed)
        #expect(tokenCheck.detail == "mode is 0644, expected 0600; group is root, expected shadow; does not hold the declared text")
        #expect(tokenCheck.next == "sudo chmod 0600 /etc/lab/token; sudo chgrp shadow /etc/lab/token")
        #expect(found["file /etc/lab/app.conf"]?.detail == "its content differs from the declared sha256")
        #expect(found["file /etc/lab/absent"]?.detail == "does not exist")
        for check in found.values where check.name.hasPrefix("file ") {
            #expect(!check.detail.contains("s3cr3t") && !check.detail.contains("listen"))
        }
        let call = try #require(host.runner.calls.first { $0.executable == "sha256sum" })
        #expect(call.input?.path == "/etc/lab/app.conf", "the digest is of the file ailab opened")
        // The same file, declared as it is.
        token.mode = 0o644
        token.group = "root"
        token.contains = "TOKEN="
        expect.files = [token]
        let passing = try #require(try await host.report(expectations: expect).checks(in: "expectations")["file /etc/lab/token"])
        #expect(passing.status == .ok)
        #expect(passing.detail == "mode 0644, owner root, group root, holds the declared text")
    }

    @Test func aLinkIsFollowedOnlyWhenRootMadeIt() async throws {
        try RealTools.requireRoot()
        let host = try HealthyHost()
        try host.write("/srv/real/key.pem", "key\n")
        chmod(host.root.path + "/srv/real/key.pem", 0o600)
        symlink("/srv/real/key.pem", host.root.path + "/etc/rootlink")
        symlink("../srv/real/key.pem", host.root.path + "/etc/userlink")
        lchown(host.root.path + "/etc/userlink", 1000, 1000)
        var expect = Expectations()
        expect.files = ["/etc/rootlink", "/etc/userlink"].map {
            var rule = Expectations.FileRule(path: $0)
            rule.mode = 0o600
            return rule
        }
        let found = try await host.report(expectations: expect).checks(in: "expectations")
        #expect(found["file /etc/rootlink"]?.status == .ok)
        #expect(found["file /etc/userlink"]?.status == .failed)
        #expect(
            found["file /etc/userlink"]?.detail == "is reached through the link userlink, owned by uid 1000; only root's links are followed"
        )
    }

    @Test func mountsNeedTheirTypeSourceAndEveryOption() async throws {
        let host = try HealthyHost()
        try host.write(
            "/proc/self/mountinfo",
            """
            27 1 254:0 / / rw,relatime - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
            90 27 0:50 / /srv/data rw,relatime shared:300 - nfs4 nas:/export/data rw,vers=4.2,rsize=1048576,hard,proto=tcp,timeo=600,sec=sys,clientaddr=10.0.0.7,addr=10.0.0.5
            91 27 0:51 / /scratch rw,relatime - xfs /dev/sdb1 rw,attr2,inode64

            """)
        var expect = Expectations()
        var data = Expectations.MountRule(path: "/srv/data")
        (data.fstype, data.source, data.options) = ("nfs4", "nas:/export/data", ["hard", "vers=4.1", "noatime"])
        var scratch = Expectations.MountRule(path: "/scratch/")
        scratch.fstype = "ext4"
        expect.mounts = [data, scratch, Expectations.MountRule(path: "/models")]
        let found = try await host.report(expectations: expect).checks(in: "expectations")
        #expect(found["mount /srv/data"]?.detail == "lacks option(s) vers=4.1, noatime")
        #expect(found["mount /scratch/"]?.detail == "fstype is xfs, expected ext4")
        #expect(found["mount /models"]?.detail == "not mounted")
        data.options = ["hard", "vers=4.2", "relatime"]
        expect.mounts = [data]
        #expect(
            try await host.report(expectations: expect).checks(in: "expectations")["mount /srv/data"]?.detail
                == "nfs4 from nas:/export/data")
    }

    /// The healthcheck unit's sandbox remounts its own view read-only: init's table is the host's.
    @Test func mountsAreJudgedAsInitSeesThemNotAsTheSandboxDoes() async throws {
        let host = try HealthyHost()
        try host.write("/proc/self/mountinfo", "27 1 254:0 / / ro,nosuid,relatime - ext4 /dev/vda rw\n")
        var expect = Expectations()
        var root = Expectations.MountRule(path: "/")
        root.options = ["rw"]
        expect.mounts = [root]
        #expect(
            try await host.report(expectations: expect).checks(in: "expectations")["mount /"]?.status == .ok, "rw among the superblock's")
        root.options = ["relatime", "nosuid"]
        expect.mounts = [root]
        #expect(try await host.report(expectations: expect).checks(in: "expectations")["mount /"]?.status == .ok)
        try host.write("/proc/1/mountinfo", "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n")
        #expect(try await host.report(expectations: expect).checks(in: "expectations")["mount /"]?.detail == "lacks option(s) nosuid")
    }

    @Test func modulesAreLoadedOrBuiltIn() async throws {
        let host = try HealthyHost()
        try host.write("/sys/module/nvidia/initstate", "live\n")
        try host.write("/sys/module/nvidia_uvm/initstate", "going\n")
        try host.write("/sys/module/bridge/parameters/x", "")
        var expect = Expectations()
        expect.kernelModules = ["nvidia", "nvidia-uvm", "bridge", "nvidia_drm", "../x"]
        let found = try await host.report(expectations: expect).checks(in: "expectations")
        #expect(found["module nvidia"]?.detail == "loaded")
        #expect(found["module nvidia-uvm"]?.detail == "is going")
        #expect(found["module bridge"]?.detail == "built into the kernel")
        #expect(found["module nvidia_drm"]?.status == .failed && found["module nvidia_drm"]?.detail == "not loaded")
        #expect(found["module ../x"]?.detail == "not a module name")
    }

    @Test func usersGroupsAndTheLoginPolicy() async throws {
        let host = try HealthyHost()
        var expect = Expectations()
        expect.users = ["root", "alice", "1001"]
        expect.groups = ["docker", "render"]
        expect.logins = ["root", "alice"]
        host.runner.on(
            "getent", ["passwd", "--", "root", "alice", "1001"],
            stdout: "root:x:0:0:root:/root:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\n",
            exit: 2)
        host.runner.on("getent", ["group", "--", "docker", "render"], stdout: "docker:x:998:alice\n", exit: 2)
        try host.write(
            "/etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\n")
        try host.write("/etc/shadow", "root:!:20228::::::\nalice:$6$a$b:20228::::::\nbob:$6$c$d:20228::::::\n")
        try host.write("/etc/shells", "/bin/bash\n")
        let found = try await host.report(expectations: expect).checks(in: "expectations")
        #expect(found["user root"]?.status == .ok)
        #expect(found["user alice"]?.detail == "does not exist")
        #expect(found["user 1001"]?.status == .ok, "a uid names its account")
        #expect(found["group render"]?.status == .failed)
        let bob = try #require(found["login bob"])
        #expect(bob.status == .failed)
        #expect(bob.detail == "may log in: shell /bin/bash, a usable password; not in expect.logins")
        #expect(found["logins"] == nil)
        expect.logins = ["alice", "bob"]
        #expect(
            try await host.report(expectations: expect).checks(in: "expectations")["logins"]?.detail
                == "only declared accounts may log in: alice, bob")
        // Without root, /etc/shadow cannot be read: the policy is not judged.
        try FileManager.default.removeItem(atPath: host.root.path + "/etc/shadow")
        #expect(try await host.report(root: false, expectations: expect).checks(in: "expectations")["logins"]?.status == .skipped)
    }

    @Test func namesMustAnswerWithEveryDeclaredAddress() async throws {
        let host = try HealthyHost()
        var expect = Expectations()
        expect.dns = [.init(name: "nas.lab", addresses: ["10.0.0.5", "fd00:0::5"]), .init(name: "gone.lab", addresses: ["10.0.0.9"])]
        host.runner.on(
            "getent", ["ahosts", "--", "nas.lab"],
            stdout: "10.0.0.5        STREAM nas.lab\n10.0.0.5        DGRAM  \nfd00::6         STREAM \n")
        host.runner.on("getent", ["ahosts", "--", "gone.lab"], exit: 2)
        let found = try await host.report(expectations: expect).checks(in: "expectations")
        #expect(found["dns nas.lab"]?.detail == "answers 10.0.0.5, fd00::6; expected also fd00:0::5")
        #expect(found["dns gone.lab"]?.detail == "no answer")
        expect.dns = [.init(name: "nas.lab", addresses: ["10.0.0.5", "fd00::6"])]
        #expect(try await host.report(expectations: expect).checks(in: "expectations")["dns nas.lab"]?.status == .ok)
    }

    @Test func certificatesFailWhenExpiredOrUnreadableAndWarnBeforeMinDays() async throws {
        let host = try HealthyHost()
        let now = HealthyHost.now
        func end(_ days: Double) -> String {
            let date = now.addingTimeInterval(days * 86400)
            return "notAfter=" + Timestamp.format(date, "%b %e %H:%M:%S %Y", utc: true) + " GMT\n"
        }
        let answers = ["/etc/ssl/old.pem": end(-1), "/etc/ssl/soon.pem": end(5.5), "/etc/ssl/good.pem": end(200)]
        for path in answers.keys.sorted() + ["/etc/ssl/bad.pem"] { try host.write(path, "-----BEGIN CERTIFICATE-----\n") }
        host.runner.on("openssl", ["x509", "-noout", "-enddate"]) { invocation in
            let answer = answers[invocation.input?.path ?? ""]
            return InvocationResult(
                invocation: invocation, termination: .exited(answer == nil ? 1 : 0), stdout: answer ?? "",
                stderr: answer == nil ? "Could not read certificate from <stdin>\n" : "")
        }
        var expect = Expectations()
        expect.certificates = ["/etc/ssl/old.pem", "/etc/ssl/soon.pem", "/etc/ssl/good.pem", "/etc/ssl/bad.pem", "/etc/ssl/none.pem"].map {
            .init(path: $0, minDays: 30)
        }
        let report = try await host.report(expectations: expect)
        let found = report.checks(in: "expectations")
        #expect(found["certificate /etc/ssl/old.pem"]?.status == .failed)
        #expect(found["certificate /etc/ssl/old.pem"]?.detail.hasPrefix("expired on ") == true)
        #expect(found["certificate /etc/ssl/soon.pem"]?.status == .warning)
        #expect(found["certificate /etc/ssl/soon.pem"]?.detail.hasSuffix("in 5 day(s); at least 30 declared") == true)
        #expect(found["certificate /etc/ssl/good.pem"]?.status == .ok)
        #expect(
            found["certificate /etc/ssl/bad.pem"]?.detail
                == "unreadable as a PEM certificate: openssl x509: Could not read certificate from <stdin>")
        #expect(found["certificate /etc/ssl/none.pem"]?.detail == "does not exist")
        let metrics = PrometheusText.render(MetricsExport.samples(for: report))
        #expect(metrics.contains(#"ailab_certificate_expiry_seconds{path="/etc/ssl/good.pem",task="healthcheck"} 17280000"#), "\(metrics)")
        #expect(metrics.contains(#"ailab_expectation_ok{kind="certificate",target="/etc/ssl/soon.pem",task="healthcheck"} 0"#))
    }

    @Test func commandsAreArgvJudgedByExitAndOutputAndBounded() async throws {
        let host = try HealthyHost()
        host.runner.on("/usr/bin/nvidia-smi", ["-L"], stdout: "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)\n")
        host.runner.on("/usr/local/bin/nccl-check", [], stderr: "bus error\n", exit: 1)
        host.runner.on("/usr/local/bin/hangs", [], timedOut: true)
        var expect = Expectations()
        expect.commands = [
            .init(name: "gpus-listed", run: ["/usr/bin/nvidia-smi", "-L"], stdoutContains: "H100"),
            .init(name: "wrong-gpu", run: ["/usr/bin/nvidia-smi", "-L"], stdoutContains: "A100"),
            .init(name: "nccl", run: ["/usr/local/bin/nccl-check"]),
            .init(name: "hangs", run: ["/usr/local/bin/hangs"]),
        ]
        let found = try await host.report(expectations: expect).checks(in: "expectations")
        #expect(found["command gpus-listed"]?.detail == "exit 0, output holds 'H100'")
        #expect(found["command wrong-gpu"]?.detail == "its output lacks 'A100'")
        #expect(found["command nccl"]?.detail == "ended with exit 1, expected exit 0: bus error")
        #expect(found["command nccl"]?.next == "run it by hand: sudo /usr/local/bin/nccl-check")
        #expect(found["command hangs"]?.status == .failed)
        #expect(found["command hangs"]?.detail.contains("timed out") == true)
        #expect(host.runner.calls.filter { $0.executable.hasPrefix("/usr/") }.allSatisfy { $0.effect == .readOnly })
    }

    @Test func captureTakesTheHostAndReadsBackAsExpectations() async throws {
        let host = try HealthyHost()
        let fake = try FakeContext(runner: host.runner, files: HostFiles(root: host.root.path))
        let context = fake.context
        try host.write("/proc/filesystems", "nodev\tsysfs\nnodev\tproc\nnodev\ttmpfs\nnodev\tnfs4\n\text4\n\tsquashfs\n")
        try host.write(
            "/proc/self/mountinfo",
            """
            22 27 0:21 / /proc rw,relatime - proc proc rw
            27 1 254:0 / / rw,relatime - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
            30 27 7:0 / /snap/core22/1380 ro,nodev,relatime - squashfs /dev/loop0 ro
            90 27 0:50 / /srv/lab\\040data rw,relatime - nfs4 nas:/export rw,vers=4.2,hard,clientaddr=10.0.0.7,addr=10.0.0.5

            """)
        try host.write("/sys/module/nvidia/initstate", "live\n")
        try host.write("/sys/module/nvidia_uvm/initstate", "live\n")
        try host.write("/sys/module/bridge/parameters/x", "")
        try host.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n")
        try host.write("/etc/shadow", "root:!:20228::::::\nalice:$6$a$b:20228::::::\n")
        try host.write("/etc/shells", "/bin/bash\n")
        host.runner.on(
            "systemctl", ["list-units", "--type=service", "--state=active", "--no-legend", "--plain", "--no-pager"],
            stdout: """
                cron.service loaded active running Regular background program processing daemon
                getty@tty1.service loaded active running Getty on tty1
                user@1000.service loaded active running User Manager for UID 1000
                systemd-journald.service loaded active running Journal Service

                """)
        host.runner.on(
            "systemctl", ["list-unit-files", "--type=service", "--state=enabled", "--no-legend", "--no-pager"],
            stdout: "cron.service enabled enabled\ngetty@.service enabled enabled\n")
        host.runner.on(
            "dpkg-query", ["-W", "-f", DpkgQuery.format, "--", "nvidia-*", "libnvidia-*", "cuda-*", "linux-image-6.8.0-45-generic"],
            stdout:
                "nvidia-driver-550\t550.54.15-0ubuntu1\tii \nnvidia-driver-535\t535.1-1\trc \nlinux-image-6.8.0-45-generic\t6.8.0-45.45\tii \n",
            exit: 1)
        let yaml = await HostCapture.take(in: context).yaml(host: "lab01", at: HealthyHost.now)
        #expect(
            yaml.contains("    - cron.service  # enabled, and running now\n    - getty@tty1.service  # enabled, and running now\n"),
            "\(yaml)")
        #expect(!yaml.contains("user@1000") && !yaml.contains("journald"))
        #expect(yaml.contains("    \"/srv/lab data\":  # nfs4 from nas:/export, mounted now\n"))
        #expect(!yaml.contains("clientaddr") && !yaml.contains("addr=10") && !yaml.contains("/snap") && !yaml.contains("/proc"))
        #expect(yaml.contains("    nvidia-driver-550: \"550.*\"  # installed at 550.54.15-0ubuntu1; pinned to its major version\n"))
        #expect(!yaml.contains("nvidia-driver-535"))
        #expect(yaml.contains("    - nvidia  # loaded now\n    - nvidia_uvm  # loaded now\n") && !yaml.contains("bridge"))
        #expect(yaml.contains("  logins:\n    - alice  # shell /bin/bash, a usable password\n"))
        // Fed back through the one reader, it declares what was taken.
        var config = AilabConfig()
        try ConfigFile.apply(yaml, from: "capture", to: &config)
        #expect(config.expect.services == ["cron.service", "getty@tty1.service"])
        #expect(config.expect.mounts.map(\.path) == ["/", "/srv/lab data"])
        #expect(config.expect.mounts.last?.options == ["rw", "relatime", "vers=4.2", "hard"])
        #expect(
            config.expect.packages == [
                .init(name: "nvidia-driver-550", wanted: .version("550.*")),
                .init(name: "linux-image-6.8.0-45-generic", wanted: .version("6.*")),
            ])
        #expect(config.expect.kernelModules == ["nvidia", "nvidia_uvm"])
        #expect(config.expect.logins == ["alice"])
        #expect(config.expect.listening == [])
    }
}
