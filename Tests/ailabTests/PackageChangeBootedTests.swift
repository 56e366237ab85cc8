import AilabTestSupport
import Foundation
import Testing

/// Package changes on a booted Debian 12 with real dpkg and maintainer scripts: packages from a
/// local repository built here, upgraded and removed under the shipped units, interrupted in
/// every way an operator or systemd interrupts them, and a half-configured package found.
@Suite(.serialized, .timeLimit(.minutes(15))) struct PackageChangeBootedTests {
    typealias Package = DebRepository.Package

    /// A package whose postinst takes `seconds`, marking its start and its end in /run.
    static func slow(_ version: String, seconds: Int = 6) -> Package {
        Package(
            name: "ailab-slow", version: version,
            scripts: [
                "postinst": """
                touch /run/ailab-slow.started
                sleep \(seconds)
                echo \(version) > /run/ailab-slow.done
                """
            ])
    }

    static func packages(_ version: String) -> [Package] {
        [
            Package(name: "ailab-suid", version: version, files: ["usr/bin/ailab-suid-helper": ("#!/bin/sh\necho \(version)\n", 0o4755)]),
            Package(
                name: "ailab-fcap", version: version, depends: "libcap2-bin",
                files: ["usr/bin/ailab-fcap-helper": ("#!/bin/sh\necho \(version)\n", 0o755)],
                scripts: ["postinst": "setcap cap_net_raw+ep /usr/bin/ailab-fcap-helper"]),
            Package(
                name: "ailab-svc", version: version,
                files: [
                    "usr/lib/systemd/system/ailab-svc.service": (
                        """
                        [Service]
                        User=ailabsvc
                        ExecStart=/bin/sh -c 'cat /usr/share/ailab-svc/version > /run/ailab-svc/version; exec sleep infinity'
                        RuntimeDirectory=ailab-svc
                        [Install]
                        WantedBy=multi-user.target
                        """, 0o644
                    ), "usr/share/ailab-svc/version": (version + "\n", 0o644),
                ],
                scripts: [
                    "postinst": """
                    getent passwd ailabsvc >/dev/null || useradd --system --no-create-home --shell /usr/sbin/nologin ailabsvc
                    deb-systemd-helper enable ailab-svc.service
                    systemctl daemon-reload
                    deb-systemd-invoke restart ailab-svc.service
                    """
                ]),
            Package(name: "ailab-leaf", version: version),
        ]
    }

    /// Debian 12 booted with ailab installed, the distribution's sources gone and the local
    /// repository at version 1.0 installed from it.
    func prepared() throws -> (BootedDebian, DebRepository) {
        try RealTools.require("dpkg-scanpackages", package: "dpkg-dev")
        let debian = try BootedSystemdTests().bookworm()
        let install = try debian.sh("/opt/ailab/install.sh --binary /opt/ailab/ailab")
        #expect(install.code == 0, "\(install.stderr)")
        let repository = DebRepository(folder: debian.root + "/srv/repo", build: debian.root + "/srv/build")
        for package in Self.packages("1.0") + [Self.slow("1.0", seconds: 0)] { try repository.add(package) }
        try repository.index()
        try debian.check(
            """
            rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*
            echo 'deb [trusted=yes] file:/srv/repo ./' > /etc/apt/sources.list.d/local.list
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ailab-suid ailab-fcap ailab-svc ailab-leaf ailab-slow
            """)
        return (debian, repository)
    }

    @Test func upgradeAndRemovalUnderTheShippedUnitsOnStaleLists() throws {
        let (debian, _) = try prepared()
        #expect(try debian.check("cat /run/ailab-svc/version") == "1.0\n")
        // New versions appear in a source added after the host's last apt-get update: the lists are stale.
        let newer = DebRepository(folder: debian.root + "/srv/repo2", build: debian.root + "/srv/build")
        for package in Self.packages("2.0") { try newer.add(package) }
        try newer.index()
        try debian.check("echo 'deb [trusted=yes] file:/srv/repo2 ./' > /etc/apt/sources.list.d/newer.list")
        #expect(try debian.check("apt-get -s dist-upgrade | grep -c '^Inst' || true") == "0\n")

        _ = try debian.sh("systemctl start ailab-upgrade.service")
        let upgrade = try debian.show("ailab-upgrade.service", ["Result", "ExecMainStatus"])
        let journal = try debian.check("journalctl -u ailab-upgrade.service --no-pager -o cat | tail -40")
        #expect(upgrade["Result"] == "success", "\(upgrade) \(journal)")
        let versions = try debian.check("dpkg-query -W -f '${Package} ${Version}\\n' ailab-suid ailab-fcap ailab-svc")
        #expect(versions == "ailab-fcap 2.0\nailab-suid 2.0\nailab-svc 2.0\n", "\(journal)")
        #expect(try debian.check("stat -c %a /usr/bin/ailab-suid-helper") == "4755\n")
        #expect(try debian.check("getcap /usr/bin/ailab-fcap-helper").contains("cap_net_raw=ep"))
        #expect(try debian.check("getent passwd ailabsvc").hasPrefix("ailabsvc:"))
        #expect(try debian.check("cat /run/ailab-svc/version") == "2.0\n", "the service was not restarted with the new files")
        #expect(try debian.check("dpkg --audit").isEmpty)

        try debian.check("apt-mark auto ailab-leaf")
        _ = try debian.sh("systemctl start ailab-apt-cleanup.service")
        let cleanup = try debian.show("ailab-apt-cleanup.service", ["Result"])
        let cleanupJournal = try debian.check("journalctl -u ailab-apt-cleanup.service --no-pager -o cat | tail -30")
        #expect(cleanup["Result"] == "success", "\(cleanupJournal)")
        #expect(try debian.sh("dpkg-query -W -f '${db:Status-Abbrev}' ailab-leaf").stdout.hasPrefix("i") == false)
        print(
            "Debian 12 under ailab-upgrade.service: setuid 4755, cap_net_raw=ep, ailabsvc created, service restarted on 2.0; "
                + "ailab-leaf purged under ailab-apt-cleanup.service; dpkg --audit empty")
    }

    /// Each interruption arrives while a postinst runs: the package ends configured, ailab exits 1.
    @Test func everyInterruptionLeavesDpkgConsistent() throws {
        let (debian, repository) = try prepared()
        let interruptions = [
            ("systemctl stop", "systemctl start --no-block ailab-upgrade.service", "systemctl stop ailab-upgrade.service"),
            ("Ctrl-C", Self.byHand, "/bin/kill -INT -- -$(cat /run/ailab.pid)"),
            ("hang-up", Self.byHand, "/bin/kill -HUP -- -$(cat /run/ailab.pid)"),
            ("SIGTERM", Self.byHand, "/bin/kill -TERM $(cat /run/ailab.pid)"),
        ]
        try Data(Self.byHandScript.utf8).write(to: URL(fileURLWithPath: debian.root + "/opt/ailab/by-hand.sh"))
        var table: [String] = []
        for (index, (name, start, interrupt)) in interruptions.enumerated() {
            let version = "\(index + 2).0"
            try repository.add(Self.slow(version))
            try repository.index()
            try debian.check("rm -f /run/ailab-slow.started /run/ailab-slow.done /run/ailab.code; \(start)")
            try debian.check("for i in $(seq 600); do [ -e /run/ailab-slow.started ] && exit 0; sleep 0.1; done; exit 1")
            let sent = try debian.sh(interrupt)
            let processes = try debian.sh("cat /run/ailab.code /run/ailab.err; ps -eo pid,pgid,sid,args").stdout
            #expect(sent.code == 0, "\(name): \(sent.stderr) \(processes)")
            let code: String
            if name == "systemctl stop" {
                code = try debian.show("ailab-upgrade.service", ["ExecMainStatus"])["ExecMainStatus"] ?? "?"
                let journal = try debian.check("journalctl -u ailab-upgrade.service --no-pager -o cat")
                #expect(journal.components(separatedBy: "it runs to its end first").count == 2, "\(journal)")
            } else {
                code = try debian.check("for i in $(seq 600); do [ -s /run/ailab.code ] && break; sleep 0.1; done; cat /run/ailab.code")
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(try debian.check("cat /run/ailab.err").contains("it runs to its end first"))
            }
            let audit = try debian.check("dpkg --audit")
            let installed = try debian.check("dpkg-query -W -f '${Version} ${db:Status-Abbrev}' ailab-slow")
            let done = try debian.sh("cat /run/ailab-slow.done").stdout
            #expect(audit.isEmpty, "\(name): \(audit)")
            #expect(installed == "\(version) ii ", "\(name)")
            #expect(done == version + "\n", "\(name): the postinst did not finish")
            #expect(code == "1", "\(name): exit \(code)")
            table.append(
                "\(name): exit \(code), ailab-slow \(installed.trimmingCharacters(in: .whitespaces)), dpkg --audit empty: \(audit.isEmpty)")
        }
        print("Interruptions during a 6 s postinst on Debian 12:\n" + table.joined(separator: "\n"))
    }

    /// ailab by hand in a session and process group of its own (a terminal's job), its pid and exit
    /// code in /run. systemd-run starts it, so that it holds none of the test's descriptors.
    static let byHand =
        "rm -f /run/ailab.pid && systemd-run --quiet --collect /bin/sh /opt/ailab/by-hand.sh && "
        + "for i in $(seq 100); do [ -s /run/ailab.pid ] && break; sleep 0.1; done"
    static let byHandScript = """
        setsid sh -c 'echo $$ > /run/ailab.pid; exec ailab upgrade --execute --non-interactive' >/run/ailab.out 2>/run/ailab.err
        echo $? > /run/ailab.code

        """

    @Test func aHalfConfiguredPackageFailsHealthcheckAndEveryPackageTask() throws {
        let (debian, repository) = try prepared()
        try repository.add(Package(name: "ailab-broken", version: "1.0", scripts: ["postinst": "exit 1"]))
        try repository.index()
        #expect(try debian.sh("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ailab-broken").code != 0)
        let report = try debian.sh("AILAB_TEXTFILE_DIR=/run ailab healthcheck --format json")
        #expect(report.code == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let dpkg = (json["checks"] as? [[String: Any]] ?? []).first {
            $0["section"] as? String == "packages" && $0["name"] as? String == "dpkg"
        }
        #expect(dpkg?["status"] as? String == "failed")
        #expect((dpkg?["detail"] as? String)?.contains("ailab-broken 1.0 (half-configured)") == true, "\(String(describing: dpkg))")
        #expect(try debian.check("grep '^ailab_dpkg_interrupted' /run/ailab-healthcheck.prom").hasSuffix(" 1\n"))
        for task in ["upgrade", "apt-cleanup", "kernel-cleanup"] {
            let refused = try debian.sh("ailab \(task)")
            #expect(refused.code == 1, "\(task): \(refused.stdout)")
            #expect(refused.stdout.contains("→ sudo dpkg --configure -a"), "\(task): \(refused.stdout)")
        }
    }
}
