import AilabTestSupport
import Foundation
import Testing

/// `ailab config --capture` on this machine, fed back to the built binary's healthcheck: every
/// captured expectation passes. Then one wrong value per kind fails its own check, naming it,
/// beside the captured ones that still pass: a package's version, a file's mode and checksum, a
/// mount, a module, a user, a name's address, a certificate made by openssl to expire in 5 days,
/// a command that exits 1 and one that hangs (ended at the section's timeout).
@Suite(.timeLimit(.minutes(5))) struct DeclaredHostEndToEndTests {
    static func expectations(_ outcome: Ailab.Outcome) throws -> [String: (status: String, detail: String)] {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], "\(outcome.stderr)")
        let checks = (json["checks"] as? [[String: Any]] ?? []).filter { $0["section"] as? String == "expectations" }
        return Dictionary(
            checks.map { ($0["name"] as? String ?? "", ($0["status"] as? String ?? "", $0["detail"] as? String ?? "")) },
            uniquingKeysWith: { first, _ in first })
    }

    @Test func aCapturePassesWhereItWasTakenAndEveryWrongValueFailsNamed() throws {
        try RealTools.requireRoot()
        for (tool, package) in [("openssl", "openssl"), ("dpkg-query", "dpkg"), ("getent", "libc-bin"), ("sha256sum", "coreutils")] {
            try RealTools.require(tool, package: package)
        }
        let scratch = try Scratch()
        let captured = try Ailab.run(["config", "--capture"], environment: scratch.environment)
        #expect(captured.code == 0, "\(captured.stderr)")
        #expect(captured.stdout.hasPrefix("# Written by ailab config --capture on "))
        #expect(captured.stdout.contains("\n  listening:") && captured.stdout.contains("\n  mounts:\n"), "\(captured.stdout)")
        let passing = try scratch.write("captured.yaml", "healthcheck:\n  timeout: 5\n" + captured.stdout)
        let fed = try Ailab.run(["healthcheck", "--config", passing, "--format", "json"], environment: scratch.environment)
        let found = try Self.expectations(fed)
        #expect(found["mount /"]?.status == "ok", "\(found)")
        for (name, check) in found where name != "time sync" {
            #expect(check.status == "ok" || check.status == "absent", "\(name): \(check.status) \(check.detail)\n\(captured.stdout)")
        }

        // One wrong value per kind, beside the capture.
        let coreutils = try Command.check("/usr/bin/dpkg-query", ["-W", "-f", "${Version}", "coreutils"])
        let file = try scratch.write("lab.conf", "gpu_memory_fraction=0.9\n", mode: 0o644)
        let certificate = scratch.file("soon.pem")
        try Command.check(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", scratch.file("soon.key"), "-out", certificate, "-days", "5",
                "-subj", "/CN=lab",
            ])
        var declared = captured.stdout
        /// Entries added to a key the capture may hold already (a key appears once).
        func add(_ key: String, _ entries: String) {
            if let range = declared.range(of: "\n  \(key):\n") {
                declared.insert(contentsOf: entries, at: range.upperBound)
            } else {
                declared += "  \(key):\n" + entries
            }
        }
        add("packages", "    coreutils: \"1.*\"\n")
        add(
            "files",
            """
                \(file):
                  mode: "0600"
                \(file).copy:
                  owner: root
                /etc/hostname:
                  sha256: "\(String(repeating: "0a", count: 32))"

            """)
        add("mounts", "    /srv/no-such-mount:\n      fstype: nfs4\n")
        add("kernel_modules", "    - ailab_no_such_module\n")
        add("users", "    - ailab-no-such-user\n")
        add("dns", "    localhost: [127.0.0.2]\n")
        add("certificates", "    \(certificate):\n      min_days: 30\n")
        add("commands", "    exits-one:\n      run: [/bin/false]\n    hangs:\n      run: [/bin/sleep, \"600\"]\n")
        let wrong = try scratch.write("wrong.yaml", "healthcheck:\n  timeout: 3\n" + declared)
        let failing = try Ailab.run(["healthcheck", "--config", wrong, "--format", "json"], environment: scratch.environment)
        #expect(failing.code == 1, "\(failing.stderr)")
        let judged = try Self.expectations(failing)
        #expect(judged["mount /"]?.status == "ok")
        let expected: [(String, String, String)] = [
            ("package coreutils", "failed", "is \(coreutils), expected 1.*"),
            ("file \(file)", "failed", "mode is 0644, expected 0600"),
            ("file \(file).copy", "failed", "does not exist"),
            ("file /etc/hostname", "failed", "its content differs from the declared sha256"),
            ("mount /srv/no-such-mount", "failed", "not mounted"),
            ("module ailab_no_such_module", "failed", "not loaded"),
            ("user ailab-no-such-user", "failed", "does not exist"),
            ("dns localhost", "failed", "expected also 127.0.0.2"),
            ("certificate \(certificate)", "warning", "day(s); at least 30 declared"),
            ("command exits-one", "failed", "ended with exit 1, expected exit 0"),
            ("command hangs", "failed", "/bin/sleep 600 timed out after"),
        ]
        for (name, status, detail) in expected {
            let check = judged[name]
            #expect(check?.status == status && check?.detail.contains(detail) == true, "\(name): \(String(describing: check))")
        }
        let metrics = scratch.file("metrics")
        try FileManager.default.createDirectory(atPath: metrics, withIntermediateDirectories: true)
        _ = try Ailab.run(["healthcheck", "--config", wrong, "--textfile-dir", metrics], environment: scratch.environment)
        let prom = try FileManager.default.contentsOfDirectory(atPath: metrics).filter { $0.hasSuffix(".prom") }
            .map { try String(contentsOfFile: metrics + "/" + $0, encoding: .utf8) }.joined()
        #expect(prom.contains("ailab_certificate_expiry_seconds{path=\"\(certificate)\",task=\"healthcheck\"} 4"), "\(prom)")
        #expect(prom.contains("ailab_expectation_ok{kind=\"package\",target=\"coreutils\",task=\"healthcheck\"} 0"))
    }

    @Test func aShellStringIsRefusedWithExit2() throws {
        let scratch = try Scratch()
        let path = try scratch.write("ailab.yaml", "expect:\n  commands:\n    smoke:\n      run: \"nvidia-smi -L | grep H100\"\n")
        let outcome = try Ailab.run(["healthcheck", "--config", path], environment: scratch.environment)
        #expect(outcome.code == 2)
        #expect(
            outcome.stderr.hasPrefix(
                "ailab: config file \(path): line 3: expect.commands: line 4: smoke: run: expected an argv list such as [/usr/bin/nvidia-smi, -L]; a shell string is never run"
            ), "\(outcome.stderr)")
        #expect(try Ailab.run(["config", "--capture", "--format", "json"]).code == 2)
    }
}
