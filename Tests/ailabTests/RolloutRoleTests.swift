import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// ansible/rollout.yml and its role run by real ansible-core over hosts on this machine, each with
/// its own package database (real apt-get, a dpkg stub that keeps the status file), folders and
/// tools. The install tag is left out: it would install into this machine's /usr and systemd.
@Suite(.timeLimit(.minutes(10))) struct RolloutRoleTests {
    struct Host {
        let name: String
        let apt: SyntheticApt
        let stubs: StubBin
        let folder: Scratch
        var variables: [String: String] = [:]
    }

    enum Kind { case healthy, failsAfterUpgrade, driverPending }

    func host(_ name: String, _ kind: Kind = .healthy) throws -> Host {
        let driver = kind == .driverPending
        let apt = try SyntheticApt(
            SyntheticApt.kernels(
                ["6.8.0-45", "6.8.0-47"],
                extra: [.init(name: "libfoo1", version: "1.0", auto: false)]
                    + (driver
                        ? [
                            .init(name: "nvidia-driver-550", version: "550.90-0ubuntu1", auto: false),
                            .init(name: "libssl3", version: "3.0.11-1", auto: false),
                            // Ubuntu's prebuilt module for the newest kernel: the next boot keeps its driver.
                            .init(name: "linux-modules-nvidia-550-6.8.0-47-generic", version: "6.8.0-47.48", auto: false),
                        ] : []))
        )
        try apt.recordChanges()
        let cache = DebRepository(folder: apt.scratch.file("cache/archives"), build: apt.scratch.file("build"))
        if driver {
            try apt.serve(
                [.init(name: "nvidia-driver-550", version: "550.127-0ubuntu1")], as: "main", suite: "bookworm", label: "Debian",
                update: false)
            try apt.serve(
                [.init(name: "libssl3", version: "3.0.13-1~deb12u1")], as: "security", suite: "bookworm-security", label: "Debian-Security",
                update: true)
            // The installed versions, in apt's cache only: the rollback point keeps them from there.
            try cache.add(.init(name: "libssl3", version: "3.0.11-1"))
            try cache.add(.init(name: "nvidia-driver-550", version: "550.90-0ubuntu1"))
        } else {
            try apt.serve([.init(name: "libfoo1", version: "1.1")])
            // Published after the host's last apt-get update: its lists are stale when the rollout starts.
            try apt.serve([.init(name: "libfoo1", version: "1.2")], as: "newer", update: false)
            try cache.add(.init(name: "libfoo1", version: "1.0"))
        }
        let stubs = try StubBin()
        for tool in ["apt-mark", "dpkg", "uname"] + TaskCatalog.upgrade.requiredTools.map(\.command) { try stubs.link(tool) }
        let folder = try Scratch()
        for sub in ["metrics", "state", "tmp", "backups"] {
            try FileManager.default.createDirectory(atPath: folder.file(sub), withIntermediateDirectories: true)
        }
        // Each host has one root filesystem, 1% used, so that no mount of this machine's (another
        // test's full loop mount, say) fails the healthcheck gate; the failing host's reads as 99%
        // full once the cleanups have run.
        let full = kind == .failsAfterUpgrade ? "[ -e '\(folder.file("ailab-apt-cleanup.log"))' ]" : "false"
        try stubs.stub(
            "df",
            """
            case "$*" in
            *-i*) printf 'Filesystem Type Inodes IUsed IFree IUse%% Mounted on\\n/dev/sda1 ext4 1000 10 990 1%% /\\n' ;;
            *) if \(full); then used='990 10 99%%'; else used='10 990 1%%'; fi
               printf "Filesystem Type 1024-blocks Used Available Capacity Mounted on\\n/dev/sda1 ext4 1000 $used /\\n" ;;
            esac
            """)
        // The hooks write into the dpkg stub's own record, so the order of drains and package changes shows.
        return Host(
            name: name, apt: apt, stubs: stubs, folder: folder,
            variables: [
                "ailab_drain_cmd": "echo drain >> \(apt.dpkgCalls)", "ailab_undrain_cmd": "echo undrain >> \(apt.dpkgCalls)",
            ])
    }

    func environment(_ host: Host) -> [String: String] {
        [
            "APT_CONFIG": host.apt.scratch.file("apt.conf"), "DPKG_ADMINDIR": host.apt.admin, "SOURCE_DATE_EPOCH": "0",
            "AILAB_LOG_DIR": host.folder.path, "AILAB_LOCK_DIR": host.folder.path, "AILAB_TEXTFILE_DIR": host.folder.file("metrics"),
            "AILAB_BACKUP_DEST": host.folder.file("backups"), "PATH": host.stubs.path, "NO_COLOR": "1",
            "AILAB_CONFIG": host.folder.file("ailab.yaml"), "AILAB_STATE_DIR": host.folder.file("state"), "TMPDIR": host.folder.file("tmp"),
        ]
    }

    struct Run {
        let code: Int32
        let output: String

        /// The recap's counts of one host: "changed", "failed", "rescued", …
        func recap(_ host: String) -> [String: Int] {
            let line = output.components(separatedBy: "PLAY RECAP").last?.split(separator: "\n").first { $0.hasPrefix(host + " ") } ?? ""
            return Dictionary(
                line.split(separator: " ").compactMap { word -> (String, Int)? in
                    let parts = word.split(separator: "=")
                    guard parts.count == 2, let value = Int(parts[1]) else { return nil }
                    return (String(parts[0]), value)
                }, uniquingKeysWith: { first, _ in first })
        }

        /// The hosts each wave's play touched, play by play (the first play checks the inventory on localhost).
        var plays: [[String]] {
            output.components(separatedBy: "PLAY [").dropFirst().filter { !$0.hasPrefix("RECAP") }.map { play in
                Set(
                    play.split(separator: "\n").compactMap { line -> String? in
                        guard line.hasPrefix("ok: [") || line.hasPrefix("changed: [") || line.hasPrefix("fatal: [") else { return nil }
                        return line.split(separator: "[").dropFirst().first?.split(separator: "]").first.map(String.init)
                    }
                ).sorted()
            }.filter { !$0.isEmpty && $0 != ["localhost"] }
        }
    }

    /// ansible-playbook over `groups` (wave → hosts), skipping the install tag.
    func rollout(_ groups: [(String, [Host])], _ arguments: [String] = []) throws -> Run {
        let scratch = try Scratch()
        var inventory =
            "all:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: /usr/bin/python3\n"
            + "    ansible_become: false\n    ailab_bin: \(Ailab.binary)\n    ailab_reboot: false\n  children:\n"
        for (group, hosts) in groups {
            inventory += "    \(group):\n      hosts:\n"
            for host in hosts {
                inventory += "        \(host.name):\n          ailab_config_path: \(host.folder.file("ailab.yaml"))\n"
                inventory += "          ailab_config: {disk: {threshold: 95}, upgrade: {keep_points: 3}}\n"
                for (key, value) in host.variables.sorted(by: { $0.key < $1.key }) { inventory += "          \(key): \"\(value)\"\n" }
                inventory += "          ailab_env:\n"
                for (key, value) in environment(host).sorted(by: { $0.key < $1.key }) { inventory += "            \(key): \"\(value)\"\n" }
            }
        }
        try scratch.write("inventory.yml", inventory)
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in [
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": scratch.file("tmp"), "ANSIBLE_REMOTE_TEMP": scratch.file("tmp"),
            "ANSIBLE_HOME": scratch.file("home"), "ANSIBLE_RETRY_FILES_ENABLED": "false", "ANSIBLE_FORKS": "5",
        ] {
            environment[key] = value
        }
        let run = try Command.run(
            "/usr/bin/ansible-playbook",
            ["-i", scratch.file("inventory.yml"), Repository.root + "/ansible/rollout.yml", "--skip-tags", "install"] + arguments,
            environment: environment)
        let result = Run(code: run.code, output: run.stdout + run.stderr)
        print("ansible-playbook \(arguments.joined(separator: " ")): exit \(run.code), plays \(result.plays)")
        print(result.output.components(separatedBy: "PLAY RECAP").last ?? "")
        return result
    }

    func requireTools() throws {
        try RealTools.requireRoot()
        try RealTools.require("ansible-playbook", package: "ansible-core")
        try RealTools.require("apt-get", package: "apt")
        try RealTools.require("dpkg-scanpackages", package: "dpkg-dev")
    }

    func installed(_ host: Host, _ package: String) throws -> String {
        let query = try Command.run("dpkg-query", ["--admindir=\(host.apt.admin)", "-W", "-f=${Version}", package])
        let calls = (try? String(contentsOfFile: host.apt.dpkgCalls, encoding: .utf8)) ?? ""
        guard query.code == 0 else { throw Failure("\(host.name): \(package) is not installed; dpkg was called:\n\(calls)") }
        return query.stdout
    }

    @Test func thePlaybookPassesTheSyntaxCheck() throws {
        try RealTools.require("ansible-playbook", package: "ansible-core")
        // Held to the end: Ansible makes its temp folder in ANSIBLE_HOME, which must still be ours to remove.
        let home = try Scratch()
        let check = try Command.run(
            "/usr/bin/ansible-playbook", ["--syntax-check", Repository.root + "/ansible/rollout.yml"],
            environment: ProcessInfo.processInfo.environment.merging(["ANSIBLE_HOME": home.path]) { _, new in new })
        #expect(check.code == 0, "\(check.stdout)\(check.stderr)")
        withExtendedLifetime(home) {}
    }

    /// Hosts in none of the wave groups: the rollout fails and names the groups it expects,
    /// instead of four empty plays that exit 0.
    @Test func anInventoryWithoutWaveGroupsIsRefused() throws {
        try requireTools()
        let stray = try host("gpu07")
        let run = try rollout([("gpu", [stray])])
        #expect(run.code != 0, "\(run.output)")
        #expect(run.output.contains("no host is in any wave group"), "\(run.output)")
        #expect(run.output.contains("dev, infrastructure, critical or management"), "\(run.output)")
        #expect(run.recap("gpu07").isEmpty)
    }

    @Test func theFailedHostIsRolledBackAndTheLaterWavesAreNeverTouched() throws {
        try requireTools()
        let hosts = try (1...6).map { try host("h\($0)", $0 == 2 ? .failsAfterUpgrade : .healthy) }
        let run = try rollout([
            ("dev", Array(hosts[0...1])), ("infrastructure", Array(hosts[2...3])), ("critical", [hosts[4]]), ("management", [hosts[5]]),
        ])
        #expect(run.code != 0)
        #expect(run.plays == [["h1"], ["h2"]], "\(run.output.suffix(4000))")
        let (first, second) = (hosts[0], hosts[1])
        #expect(try installed(first, "libfoo1") == "1.2", "the stale 1.1 was installed")
        let order = try String(contentsOfFile: first.apt.dpkgCalls, encoding: .utf8).split(separator: "\n").map {
            $0.hasPrefix("drain") || $0.hasPrefix("undrain") ? String($0) : $0.contains("--unpack") ? "unpack" : "dpkg"
        }.filter { $0 != "dpkg" }
        #expect(order == ["drain", "unpack", "undrain"], "\(order)")
        #expect(run.recap("h2")["rescued"] == 1 && run.recap("h2")["failed"] == 1, "\(run.recap("h2"))")
        let points = try FileManager.default.contentsOfDirectory(atPath: second.folder.file("state/rollback"))
        let calls = try String(contentsOfFile: second.apt.dpkgCalls, encoding: .utf8)
        #expect(calls.contains("rollback/\(points.first ?? "?")/debs/libfoo1_1.0_amd64.deb"), "\(calls)")
        #expect(try installed(second, "libfoo1") == "1.0")
        #expect(!calls.contains("undrain"), "a failed host stays drained")
        #expect(run.output.contains("its packages were rolled back to \(points.first ?? "?")"), "\(run.output.suffix(3000))")
        for host in hosts.dropFirst(2) {
            let touched = try FileManager.default.contentsOfDirectory(atPath: host.folder.path).filter { $0.hasPrefix("ailab") }
            #expect(touched.isEmpty, "\(host.name) was touched: \(touched)")
            #expect(!host.apt.dpkgWasCalledToChange)
            #expect(!((try? String(contentsOfFile: host.apt.dpkgCalls, encoding: .utf8)) ?? "").contains("drain"))
        }
    }

    @Test func aSecondRunOverUnchangedHostsChangesNothing() throws {
        try requireTools()
        let hosts = try ["h1", "h2"].map { try host($0) }
        let groups = [("dev", [hosts[0]]), ("critical", [hosts[1]])]
        let first = try rollout(groups)
        #expect(first.code == 0, "\(first.output.suffix(4000))")
        for host in hosts {
            #expect((first.recap(host.name)["changed"] ?? 0) > 0)
            #expect(try installed(host, "libfoo1") == "1.2")
            #expect(try String(contentsOfFile: host.folder.file("ailab.yaml"), encoding: .utf8).contains("threshold: 95"))
        }
        let second = try rollout(groups)
        #expect(second.code == 0, "\(second.output.suffix(4000))")
        for host in hosts { #expect(second.recap(host.name)["changed"] == 0, "\(host.name): \(second.recap(host.name))") }
    }

    @Test func checkModeRunsTheDryRunsAndChangesNothing() throws {
        try requireTools()
        var hosts = try ["h1", "h2"].map { try host($0) }
        for host in hosts { try host.folder.write("ailab.yaml", "") }
        // The reboot step asks ailab's gate (a dry run) under --check too, and reboots nothing
        // there, so this is safe on this machine whatever it has pending.
        hosts[0].variables["ailab_reboot"] = "when-idle"
        let run = try rollout([("dev", hosts)], ["--check"])
        #expect(run.code == 0, "\(run.output.suffix(4000))")
        for host in hosts {
            #expect(run.recap(host.name)["failed"] == 0)
            #expect(!host.apt.dpkgWasCalledToChange, "\(host.name): dpkg was called to change a package")
            #expect(!((try? String(contentsOfFile: host.apt.dpkgCalls, encoding: .utf8)) ?? "").contains("drain"), "a hook ran")
            #expect(try installed(host, "libfoo1") == "1.0")
            #expect(try String(contentsOfFile: host.folder.file("ailab.yaml"), encoding: .utf8).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: host.folder.file("state/rollback")))
        }
        #expect(run.output.contains("libfoo1 1.0 → 1.2"), "the dry run's plan is in the output")
        let gate = run.output.components(separatedBy: "TASK [ailab : Ask ailab's gate").dropFirst()
            .map { $0.components(separatedBy: "TASK [").first ?? "" }.joined()
        #expect(gate.contains("ok: [h1]") && gate.contains("skipping: [h2]"), "\(gate)")
    }

    /// With ailab_allow_driver_upgrade false, a host with a new NVIDIA driver pending takes its
    /// security fixes only (or, with the fallback "skip", nothing), and the rollout goes on.
    @Test func aPendingDriverDoesNotStopTheRollout() throws {
        try requireTools()
        var skipping = try host("h2", .driverPending)
        skipping.variables["ailab_driver_fallback"] = "skip"
        let hosts = [try host("h1", .driverPending), skipping, try host("h3")]
        let run = try rollout([("dev", [hosts[0], hosts[1]]), ("infrastructure", [hosts[2]])])
        #expect(run.code == 0, "\(run.output.suffix(4000))")
        #expect(run.plays == [["h1"], ["h2"], ["h3"]], "\(run.plays)")
        #expect(try installed(hosts[0], "libssl3") == "3.0.13-1~deb12u1")
        #expect(try installed(hosts[0], "nvidia-driver-550") == "550.90-0ubuntu1")
        #expect(try installed(hosts[1], "libssl3") == "3.0.11-1")
        #expect(try installed(hosts[2], "libfoo1") == "1.2")
        #expect(run.output.contains("the NVIDIA driver upgrade (nvidia-driver-550)"), "\(run.output.suffix(3000))")
        #expect(run.output.contains("security fixes only are taken") && run.output.contains("nothing was upgraded"))
    }
}
