import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// Every shipped unit started by a real systemd (Debian 12's 252, and Debian 11's 247 for devices).
@Suite(.timeLimit(.minutes(10))) struct BootedSystemdTests {
    /// The scheduled tasks but upgrade: its unit runs apt-get update, which needs a repository;
    /// PackageChangeBootedTests boots its own with one.
    static let tasks = TaskCatalog.scheduled.map(\.name).filter { $0 != TaskCatalog.upgrade.name }
    /// The read-only and additive timers, the only ones an install enables.
    static let enabledByDefault = TaskCatalog.scheduled.filter(\.enabledOnInstall).map(\.name)
    /// Docker inside shares the host's network namespace and has no CAP_NET_ADMIN.
    static let dockerConfig = #"{"iptables": false, "ip6tables": false, "ip-forward": false, "bridge": "none"}"#

    /// Boots Debian 12 with the repository's installer, units and release binary under /opt/ailab.
    func bookworm(privateNetwork: Bool = false) throws -> BootedDebian {
        try BootedDebian.requireTools()
        let binary = try ReleaseBinary.path()
        let debian = try BootedDebian.boot(
            suite: "bookworm",
            files: ["/etc/docker/daemon.json": Self.dockerConfig], privateNetwork: privateNetwork)
        let source = debian.root + "/opt/ailab"
        try FileManager.default.createDirectory(atPath: source + "/systemd", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: binary, toPath: source + "/ailab")
        try FileManager.default.copyItem(atPath: Repository.installer, toPath: source + "/install.sh")
        try FileManager.default.createDirectory(atPath: source + "/etc", withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: Repository.root + "/etc") {
            try FileManager.default.copyItem(atPath: Repository.root + "/etc/" + file, toPath: source + "/etc/" + file)
        }
        for unit in Repository.units {
            try FileManager.default.copyItem(atPath: Repository.systemd + "/" + unit, toPath: source + "/systemd/" + unit)
        }
        return debian
    }

    @Test func everyServiceRunsUnderItsSandboxOnSystemd252() throws {
        let debian = try bookworm()
        try debian.check("systemctl is-active docker")
        // A running container (a training job) must survive the install: Docker is not restarted
        // under it. Containers cannot start inside this container, so docker ps is told one runs.
        try debian.check(
            """
            mkdir -p /opt/stub && printf '%s\\n' '#!/bin/sh' '[ "$*" = "ps -q" ] && { echo 4f2a9c1d0b7e; exit 0; }' 'exec /usr/bin/docker "$@"' > /opt/stub/docker
            chmod 755 /opt/stub/docker
            """)
        let dockerBefore = try debian.show("docker", ["MainPID", "ActiveEnterTimestampMonotonic"])
        let first = try debian.sh("PATH=/opt/stub:$PATH /opt/ailab/install.sh --binary /opt/ailab/ailab")
        #expect(first.code == 0, "\(first.stderr)")
        #expect(first.stdout.contains("installed /usr/local/sbin/ailab"))
        #expect(
            first.stdout.contains("Docker's log limits apply at its next restart: 1 container(s) are running and were left alone"),
            "\(first.stdout)")
        #expect(try debian.show("docker", ["MainPID", "ActiveEnterTimestampMonotonic"]) == dockerBefore)
        try prepareDocker(debian)

        // A second run changes nothing and restarts neither journald nor Docker.
        let daemons = "systemd-journald docker"
        let before = try debian.check("systemctl show --property=MainPID,ActiveEnterTimestampMonotonic \(daemons)")
        // An administrator's disable survives the next run of install.sh.
        try debian.check("systemctl disable --now --quiet ailab-disk-watch.timer")
        let second = try debian.sh("/opt/ailab/install.sh --binary /opt/ailab/ailab")
        #expect(second.code == 0, "\(second.stderr)")
        #expect(try debian.sh("systemctl is-enabled ailab-disk-watch.timer").stdout.hasPrefix("disabled"))
        try debian.check("systemctl enable --now --quiet ailab-disk-watch.timer")
        #expect(!second.stdout.contains("installed ") && !second.stdout.contains("wrote "), "\(second.stdout)")
        #expect(try debian.check("systemctl show --property=MainPID,ActiveEnterTimestampMonotonic \(daemons)") == before)

        try checkTimers(debian)

        var table = ["unit                          Result   exit  wrote"]
        for task in Self.tasks {
            let unit = "ailab-\(task).service"
            _ = try debian.sh("systemctl start \(unit)")
            let state = try debian.show(unit, ["Result", "ExecMainCode", "ExecMainStatus"])
            let journal = try debian.check("journalctl -u \(unit) --no-pager -o cat | tail -20")
            #expect(state["Result"] == "success", "\(unit): \(state) \(journal)")
            #expect(!journal.contains("history is not kept"), "\(unit) keeps no history under its sandbox: \(journal)")
            // ExecMainCode 1 is a normal exit; 2 and 3 are deaths by a signal (a seccomp kill is 31/SYS).
            // A unit no enabled timer holds may be unloaded once it ended (code 0): the journal says how.
            if state["ExecMainCode"] == "0" {
                #expect(journal.contains("\(unit): Deactivated successfully."), "\(journal)")
                #expect(!journal.contains("code=killed") && !journal.contains("status=31/SYS"), "\(journal)")
            } else {
                #expect(state["ExecMainCode"] == "1", "\(unit) ended by a signal: \(state)")
            }
            let allowed = task == "healthcheck" ? ["0", "1"] : ["0"]
            #expect(allowed.contains(state["ExecMainStatus"] ?? ""), "\(unit): \(state)")
            let written = try outputs(of: task).map { path, mode in
                let actual = try debian.check("stat -c %a \(path)").trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(actual == mode, "\(path) has mode \(actual), wants \(mode)")
                return "\(path) \(actual)"
            }
            table.append(
                "\(unit.padding(toLength: 30, withPad: " ", startingAt: 0))"
                    + "\((state["Result"] ?? "?").padding(toLength: 9, withPad: " ", startingAt: 0))"
                    + "\((state["ExecMainStatus"] ?? "?").padding(toLength: 6, withPad: " ", startingAt: 0))"
                    + written.joined(separator: ", "))
        }
        print("Debian 12, systemd 252:\n" + table.joined(separator: "\n"))
        // Every unit's run is in the history, written from inside its sandbox.
        let history = try debian.check("ailab history --format json")
        let runs = (try JSONSerialization.jsonObject(with: Data(history.utf8)) as? [String: Any])?["runs"] as? [[String: Any]] ?? []
        #expect(Set(Self.tasks).isSubset(of: Set(runs.compactMap { $0["task"] as? String })), "\(history)")

        // The upgrade unit is installed but not enabled; with no package source it has nothing to do.
        #expect(try debian.sh("systemctl is-enabled ailab-upgrade.timer").stdout.hasPrefix("disabled"))
        try debian.check("rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*")
        _ = try debian.sh("systemctl start ailab-upgrade.service")
        let upgrade = try debian.show("ailab-upgrade.service", ["Result", "ExecMainCode", "ExecMainStatus"])
        let upgradeJournal = try debian.check("journalctl -u ailab-upgrade.service --no-pager -o cat | tail -20")
        // No enabled timer holds the unit, so systemd may unload it once it ended: the journal says how.
        #expect(upgrade["Result"] == "success", "\(upgrade) \(upgradeJournal)")
        #expect(upgradeJournal.contains("ailab-upgrade.service: Deactivated successfully."), "\(upgradeJournal)")
        #expect(!upgradeJournal.contains("code=killed") && !upgradeJournal.contains("status=31/SYS"))
        #expect(
            try debian.check("stat -c %a /var/log/ailab-upgrade.log /var/lib/prometheus/node-exporter/ailab-upgrade.prom")
                == "640\n644\n")
        table.append(
            "ailab-upgrade.service         \(upgrade["Result"] ?? "?")  \(upgrade["ExecMainStatus"] ?? "?")     /var/log/ailab-upgrade.log 640, ailab-upgrade.prom 644"
        )
        print(table.last ?? "")

        // docker-cleanup pruned through the Docker CLI, under its own sandbox: the dangling image
        // went; what is recent (the tagged image, the stopped container) and the labelled stay.
        #expect(try debian.check("docker images -q --filter dangling=true").isEmpty)
        #expect(try !debian.check("docker images -q ailab-test:old").isEmpty)
        #expect(try !debian.check("docker images -q ailab-test:keep").isEmpty)
        #expect(try !debian.check("docker ps -aq").isEmpty)

        // healthcheck tells the truth about ailab's own units after these runs.
        let report = try debian.sh("ailab healthcheck --format json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any], "\(report.stderr)")
        let checks = json["checks"] as? [[String: Any]] ?? []
        for task in Self.tasks {
            let check = checks.first { $0["name"] as? String == "ailab-\(task).timer" }
            guard Self.enabledByDefault.contains(task) || task == "apt-cleanup" else {
                // A timer left disabled is reported as such, never as a failure.
                #expect(["ok", "absent"].contains(check?["status"] as? String ?? ""), "\(String(describing: check))")
                continue
            }
            #expect(check?["status"] as? String == "ok", "\(String(describing: check))")
            #expect((check?["detail"] as? String)?.contains("result success") == true, "\(String(describing: check))")
        }
        let failed = (json["failedUnits"] as? [[String: Any]] ?? []).compactMap { $0["unit"] as? String }
        #expect(!failed.contains { $0.hasPrefix("ailab-") }, "\(failed)")

        try checkDevices(debian, probe: "/opt/ailab/systemd/ailab-healthcheck.service", version: "252")
        try checkUninstall(debian)
    }

    /// The hourly unit and an administrator's `sudo ailab healthcheck` on the same host agree on
    /// every check's status: with nftables rules loaded (which need CAP_NET_ADMIN to read) and a
    /// service running on a deleted library (which needrestart finds only with CAP_SYS_PTRACE).
    @Test func healthcheckUnderItsUnitFindsWhatARunByHandFinds() throws {
        let debian = try bookworm(privateNetwork: true)
        try debian.check("/opt/ailab/install.sh --binary /opt/ailab/ailab >/dev/null")
        try debian.check(
            """
            set -e
            printf '%s\n' 'expect:' '  firewall: true' > /etc/ailab/ailab.yaml
            nft -f - <<'RULES'
            table inet filter {
              chain input {
                type filter hook input priority 0; policy drop;
                iifname "lo" accept
                ct state established,related accept
                tcp dport 22 accept
              }
            }
            RULES
            cp /usr/lib/x86_64-linux-gnu/libz.so.1 /usr/local/lib/libailab-outdated.so.1
            systemd-run --quiet --unit=outdated-library -p Environment=LD_PRELOAD=/usr/local/lib/libailab-outdated.so.1 /bin/sleep infinity
            sleep 1
            rm /usr/local/lib/libailab-outdated.so.1
            mkdir -p /etc/systemd/system/ailab-healthcheck.service.d
            printf '%s\n' '[Service]' 'ExecStart=' \
                'ExecStart=/usr/local/sbin/ailab healthcheck --format json --output /var/lib/ailab/healthcheck-unit.json' \
                > /etc/systemd/system/ailab-healthcheck.service.d/json.conf
            systemctl daemon-reload
            """)
        _ = try debian.sh("systemctl start ailab-healthcheck.service")
        let state = try debian.show("ailab-healthcheck.service", ["Result", "ExecMainStatus"])
        #expect(state["Result"] == "success", "\(state)")
        let byUnit = try Self.statuses(try debian.check("cat /var/lib/ailab/healthcheck-unit.json"))
        let byHand = try Self.statuses(try debian.sh("ailab healthcheck --format json").stdout)

        var table = ["check                                   unit      by hand"]
        for name in Set(byUnit.keys).union(byHand.keys).sorted() {
            let unit = byUnit[name]?.status ?? "-", hand = byHand[name]?.status ?? "-"
            table.append(
                name.padding(toLength: 40, withPad: " ", startingAt: 0) + unit.padding(toLength: 10, withPad: " ", startingAt: 0) + hand)
            #expect(unit == hand, "\(name): under the unit \(byUnit[name]?.detail ?? "-"); by hand \(byHand[name]?.detail ?? "-")")
        }
        print("healthcheck on Debian 12, unit against hand:\n" + table.joined(separator: "\n"))
        for report in [byUnit, byHand] {
            #expect(report["expectations/firewall"]?.status == "ok", "\(String(describing: report["expectations/firewall"]))")
            #expect(report["expectations/firewall"]?.detail == "nft: inbound policy drop, 3 rule(s)")
            #expect(report["packages/outdated code"]?.status == "warning")
            #expect(report["packages/outdated code"]?.detail.contains("outdated-library.service") == true)
        }
    }

    /// Each check of a JSON report, by section and name: its status and detail.
    static func statuses(_ json: String) throws -> [String: (status: String, detail: String)] {
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        var checks: [String: (status: String, detail: String)] = [:]
        for check in report["checks"] as? [[String: Any]] ?? [] {
            let name = "\(check["section"] as? String ?? "")/\(check["name"] as? String ?? "")"
            checks[name] = (check["status"] as? String ?? "", check["detail"] as? String ?? "")
        }
        return checks
    }

    /// The .deb under a real systemd: the default timers on after dpkg -i and the others off, a
    /// newer build upgrades cleanly and keeps a timer the administrator disabled off,
    /// dpkg -r leaves only the conffile, dpkg -P leaves nothing.
    @Test func debianPackageInstallsUpgradesRemovesAndPurges() throws {
        try RealTools.require("dpkg-deb", package: "dpkg")
        let debian = try bookworm()
        for version in ["0.1.0", "0.1.1"] {
            let built = try Command.run(
                "/bin/bash",
                [
                    Repository.installer, "--deb", debian.root + "/opt", "--binary", try ReleaseBinary.path(),
                    "--deb-version", version,
                ])
            #expect(built.code == 0, "\(built.stderr)")
        }
        let first = try debian.sh("dpkg -i /opt/ailab_0.1.0_amd64.deb")
        #expect(first.code == 0, "\(first.stdout)\(first.stderr)")
        for task in TaskCatalog.scheduled.map(\.name) {
            let enabled = Self.enabledByDefault.contains(task)
            #expect(try debian.sh("systemctl is-enabled ailab-\(task).timer").stdout.hasPrefix(enabled ? "enabled" : "disabled"), "\(task)")
            if enabled { #expect(try debian.check("systemctl is-active ailab-\(task).timer").hasPrefix("active")) }
        }
        // An administrator's disable survives an upgrade of the package (deb-systemd-helper's state).
        try debian.check("systemctl disable --now --quiet ailab-healthcheck.timer")
        #expect(try debian.check("/usr/sbin/ailab --version") == "\(AilabVersion.current)\n")
        #expect(try debian.check("systemctl show -p ExecStart --value ailab-disk-watch.service").contains("path=/usr/sbin/ailab"))

        let upgrade = try debian.sh("dpkg -i /opt/ailab_0.1.1_amd64.deb")
        #expect(upgrade.code == 0, "\(upgrade.stdout)\(upgrade.stderr)")
        #expect(try debian.check("dpkg-query -W -f '${Version}' ailab") == "0.1.1")
        #expect(try debian.sh("systemctl is-enabled ailab-healthcheck.timer").stdout.hasPrefix("disabled"))
        #expect(try debian.sh("systemctl is-enabled ailab-docker-cleanup.timer").stdout.hasPrefix("disabled"))
        #expect(try debian.check("systemctl is-active ailab-disk-watch.timer").hasPrefix("active"))

        // What the timers exported goes with the package: node_exporter would serve it for ever.
        try debian.check("/usr/sbin/ailab disk-watch --textfile-dir /var/lib/prometheus/node-exporter >/dev/null || true")
        #expect(try debian.check("ls /var/lib/prometheus/node-exporter").contains("ailab-disk-watch.prom"))
        let removed = try debian.sh("dpkg -r ailab")
        #expect(removed.code == 0, "\(removed.stderr)")
        #expect(try debian.check("ls /var/lib/prometheus/node-exporter | grep '^ailab-' || true").isEmpty)
        #expect(try debian.check("dpkg-query -W -f '${db:Status-Abbrev}' ailab") == "rc ")
        #expect(try debian.check("ls -A /etc/ailab") == "ailab.yaml.example\n")
        #expect(try debian.sh("test -e /usr/sbin/ailab").code != 0)
        // Removed but not purged, the timers stay masked (deb-systemd-helper), and nothing is loaded.
        let left = try debian.check("systemctl list-units --all --plain --no-legend 'ailab-*'")
        #expect(left.split(separator: "\n").allSatisfy { $0.contains(" masked ") }, "\(left)")

        let purged = try debian.sh("dpkg -P ailab")
        #expect(purged.code == 0, "\(purged.stderr)")
        #expect(
            try debian.sh("dpkg-query -W ailab").code != 0
                || (try debian.check("dpkg-query -W -f '${db:Status-Abbrev}' ailab")).hasPrefix("un"))
        #expect(try debian.sh("test -e /etc/ailab").code != 0)
        #expect(try debian.check("ls /etc/systemd/system | grep ailab || true").isEmpty)
        print("dpkg in Debian 12: install 0.1.0, upgrade to 0.1.1, remove (conffile kept), purge (nothing left): ok")
    }

    /// Debian 11's systemd 247 implies a device allow-list for ProtectClock=; the healthcheck
    /// unit must still reach GPUs and disks. ailab needs glibc 2.35, so a shell probes instead.
    @Test func healthcheckSandboxReachesDevicesOnSystemd247() throws {
        try BootedDebian.requireTools()
        let debian = try BootedDebian.boot(suite: "bullseye")
        try FileManager.default.copyItem(
            atPath: Repository.systemd + "/ailab-healthcheck.service",
            toPath: debian.root + "/root/ailab-healthcheck.service")
        #expect(try debian.check("systemctl --version").hasPrefix("systemd 247"))
        try checkDevices(debian, probe: "/root/ailab-healthcheck.service", version: "247")
    }

    /// A lab builds once and copies the binary to every host: Debian 13 has another glibc and ICU.
    @Test func releaseBinaryRunsOnDebian13WithoutLibxml2OrICU() throws {
        try BootedDebian.requireTools()
        let binary = try ReleaseBinary.path()
        let libraries = try Command.check("ldd", [binary]).split(separator: "\n")
            .compactMap { $0.split(whereSeparator: \.isWhitespace).first.map(String.init) }
        let allowed = ["linux-vdso.so.1", "libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "/lib64/ld-linux-x86-64.so.2"]
        #expect(libraries.allSatisfy(allowed.contains), "ldd: \(libraries)")
        let debian = try BootedDebian.boot(suite: "trixie")
        try FileManager.default.copyItem(atPath: binary, toPath: debian.root + "/usr/local/sbin/ailab")
        #expect(try debian.check("ls /usr/lib/x86_64-linux-gnu | grep -E '^lib(xml2|icu)' || true").isEmpty)
        #expect(try debian.check("ailab --version").hasPrefix(AilabVersion.current))
        let report = try debian.sh("ailab disk-watch --format json")
        #expect(report.code == 0 || report.code == 1, "\(report.stderr)")
        #expect(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) is [String: Any])
    }

    /// The default timers are enabled and active, with their calendar's next time; the ones that
    /// change the host are installed but disabled until --enable asks for them.
    func checkTimers(_ debian: BootedDebian) throws {
        for task in Self.tasks where !Self.enabledByDefault.contains(task) {
            #expect(try debian.sh("systemctl is-enabled ailab-\(task).timer").stdout.hasPrefix("disabled"), "\(task)")
        }
        let enabled = try debian.sh("/opt/ailab/install.sh --binary /opt/ailab/ailab --enable apt-cleanup")
        #expect(enabled.stdout.contains("enabled ailab-apt-cleanup.timer"), "\(enabled.stdout)\(enabled.stderr)")
        #expect(try debian.check("systemctl is-enabled ailab-apt-cleanup.timer").hasPrefix("enabled"))
        for task in Self.enabledByDefault + ["apt-cleanup"] {
            let timer = "ailab-\(task).timer"
            #expect(try debian.check("systemctl is-enabled \(timer)").hasPrefix("enabled"))
            #expect(try debian.check("systemctl is-active \(timer)").hasPrefix("active"))
            let calendar = try #require(
                try debian.check("sed -n 's/^OnCalendar=//p' /etc/systemd/system/\(timer)")
                    .split(separator: "\n").first)
            let expected = try debian.check("systemd-analyze calendar '\(calendar)' | sed -n 's/^ *Next elapse: //p'")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let next = try debian.check("systemctl show --property=NextElapseUSecRealtime --value \(timer)")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let randomized = try debian.show(timer, ["RandomizedDelayUSec"])["RandomizedDelayUSec"] ?? "0"
            if randomized == "0" {
                #expect(next == expected, "\(timer): next \(next), calendar says \(expected)")
            } else {
                #expect(!next.isEmpty, "\(timer) has no next elapse")
            }
        }
    }

    /// A dangling image (its tag taken by a newer import), a recent image and one kept by label,
    /// and a stopped container, for docker-cleanup's retention.
    func prepareDocker(_ debian: BootedDebian) throws {
        try FileManager.default.createDirectory(atPath: debian.root + "/opt/image/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: debian.root + "/opt/image/bin/busybox")
        try debian.check(
            """
            set -e
            tar -C /opt/image -c . | docker import - ailab-test:old >/dev/null
            sleep 1
            tar -C /opt/image -c . | docker import - ailab-test:old >/dev/null
            test -n "$(docker images -q --filter dangling=true)"
            tar -C /opt/image -c . | docker import --change 'LABEL ailab.keep=1' - ailab-test:keep >/dev/null
            docker create ailab-test:old /bin/busybox true >/dev/null
            """)
    }

    /// What each service writes, with its mode.
    func outputs(of task: String) -> [(String, String)] {
        let metrics = ("/var/lib/prometheus/node-exporter/ailab-\(task).prom", "644")
        switch task {
        case "healthcheck": return [metrics, ("/var/lib/ailab/healthcheck-latest.txt", "600")]
        case "config-backup":
            return [
                metrics, ("/var/log/ailab-\(task).log", "640"), ("/srv/backups/ailab-config", "700"),
                ("/srv/backups/ailab-config/ailab-config-*.tar.gz", "600"),
                // The store that keeps the restore drill the new archive passed (as root restores it).
                ("/var/lib/ailab/ailab.db", "600"),
            ]
        default: return [metrics, ("/var/log/ailab-\(task).log", "640")]
        }
    }

    /// Device nodes with no driver behind them, opened under a copy of the healthcheck unit:
    /// allowed gives ENXIO ("No such device or address"), a device allow-list gives EPERM.
    func checkDevices(_ debian: BootedDebian, probe unitFile: String, version: String) throws {
        let devices = [
            ("/dev/nvidiactl", "c 195 255"), ("/dev/nvidia0", "c 195 0"), ("/dev/sdz", "b 8 240"),
            ("/dev/nvme9n1", "b 259 99"),
        ]
        for (node, numbers) in devices { try debian.check("[ -e \(node) ] || mknod \(node) \(numbers)") }
        let opens = devices.map { "(exec 3<\($0.0)) 2>&1 || true" }.joined(separator: "; ")
        // ReadWritePaths= folders must exist, as install.sh makes them.
        try debian.check(
            """
            mkdir -p /var/lib/ailab
            sed -e '/^Environment=/d' -e '/^ExecStart=/d' -e '/^SuccessExitStatus=/d' \(unitFile) > /etc/systemd/system/device-probe.service
            printf '%s\\n' 'StandardOutput=file:/run/device-probe.txt' 'ExecStart=/bin/sh -c "\(opens)"' >> /etc/systemd/system/device-probe.service
            systemctl daemon-reload
            systemctl start device-probe.service || { journalctl -u device-probe.service --no-pager | tail; exit 1; }
            """)
        let answers = try debian.check("cat /run/device-probe.txt")
        var table = ["device          systemd \(version)"]
        for (node, _) in devices {
            let line = answers.split(separator: "\n").first { $0.contains(node) }.map(String.init) ?? "opened"
            #expect(line.contains("No such device or address"), "\(node) under the healthcheck sandbox: \(line)")
            table.append(node.padding(toLength: 16, withPad: " ", startingAt: 0) + (line.components(separatedBy: ": ").last ?? line))
        }
        print(table.joined(separator: "\n"))
        try debian.check("rm /etc/systemd/system/device-probe.service && systemctl daemon-reload")
    }

    /// Nothing of ailab stays loaded, failed or stamped, and no metrics or empty drop-in folder remain.
    func checkUninstall(_ debian: BootedDebian) throws {
        let removed = try debian.sh("/opt/ailab/install.sh --uninstall --purge")
        #expect(removed.code == 0, "\(removed.stderr)")
        // Removed but not purged, the timers stay masked (deb-systemd-helper), and nothing is loaded.
        let left = try debian.check("systemctl list-units --all --plain --no-legend 'ailab-*'")
        #expect(left.split(separator: "\n").allSatisfy { $0.contains(" masked ") }, "\(left)")
        #expect(try debian.check("systemctl list-units --failed --plain --no-legend").contains("ailab-") == false)
        #expect(try debian.check("ls /var/lib/systemd/timers/ | grep ailab || true").isEmpty)
        #expect(try debian.check("ls /var/lib/prometheus/node-exporter/ | grep '^ailab-.*\\.prom$' || true").isEmpty)
        #expect(try debian.sh("test -e /etc/systemd/journald.conf.d").code != 0)
        #expect(try debian.sh("test -e /etc/ailab").code != 0)
        #expect(try debian.sh("test -e /usr/local/sbin/ailab").code != 0)
    }
}
