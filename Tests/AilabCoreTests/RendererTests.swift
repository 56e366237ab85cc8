@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct RendererTests {
    static func report(dryRun: Bool?) -> Report {
        var findings = Findings()
        findings.add("/", .warning, "91% used")
        findings.add("docker", .absent, "docker is not installed", section: "containers")
        findings.plan = [
            PlanLine(
                command: ["apt-get", "-y", "autoremove", "--purge"], purpose: "remove 2 packages",
                line: "apt-get -y autoremove --purge  # remove 2 packages")
        ]
        findings.set("threshold", 85)
        return Report(
            task: "disk-watch", host: "lab01", startedAt: Date(timeIntervalSince1970: 0),
            finishedAt: Date(timeIntervalSince1970: 2), dryRun: dryRun, findings: findings)
    }

    @Test func jsonHoldsTheDocumentedFields() throws {
        let text = JSONRenderer.render(Self.report(dryRun: true))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        for key in ["task", "hostname", "startedAt", "finishedAt", "exitCode", "dryRun", "checks", "plan", "threshold"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["exitCode"] as? Int == 0)
        #expect(object["startedAt"] as? String == "1970-01-01T00:00:00.000Z")
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.map { $0["status"] as? String } == ["warning", "absent"])
        #expect(checks[1]["section"] as? String == "containers")
    }

    /// A repository's Label, a rollback point's id and a file name come from outside: the text
    /// report shows their escape bytes and newlines as `\x1b` and `\x0a`; JSON carries them raw.
    @Test func notesAndPlanLinesAreEscapedAndJSONIsRaw() throws {
        var findings = Findings()
        findings.plan = [
            PlanLine(
                command: ["restore", "/etc/new\nline", "/tmp/x"], purpose: "recreate it",
                line: "restore /etc/evil\u{1b}]0;pwned\u{07}  # recreate it")
        ]
        findings.notes = [
            "Upgrades:\n  libfoo 1 → 2 (Evil\u{1b}[31m:1/stable)", "ID\n20260921\u{1b}[2J\tline", "/etc/new\nline: missing now",
        ]
        let report = Report(
            task: "upgrade", host: "lab01", startedAt: Date(timeIntervalSince1970: 0), finishedAt: Date(timeIntervalSince1970: 1),
            dryRun: true, findings: findings)
        let text = TextRenderer(colour: false).render(report)
        #expect(!text.contains("\u{1b}") && !text.contains("\u{07}"))
        #expect(text.contains("restore /etc/evil\\x1b]0;pwned\\x07  # recreate it"))
        #expect(text.contains("(Evil\\x1b[31m:1/stable)"))
        #expect(text.contains("20260921\\x1b[2J\tline"))
        #expect(JSONRenderer.render(report).contains("Evil\\u001b[31m"))
    }

    /// The closing line cuts a detail at its separator, never inside a time or an option
    /// (it read "failed ailab-disk-watch.timer (next 2026-12-04 04)" and "(apt-get -o DPkg)").
    @Test func theClosingLineKeepsTimesAndOptionsWhole() {
        #expect(TextRenderer.reason("next 2026-12-04 04:00:00 UTC; result exit-code") == "next 2026-12-04 04:00:00 UTC")
        #expect(
            TextRenderer.reason("apt-get -o DPkg::Lock::Timeout=30 autoremove: exit 100") == "apt-get -o DPkg::Lock::Timeout=30 autoremove")
        #expect(TextRenderer.reason("91% used") == "91% used")
    }

    @Test func readOnlyReportHasNoDryRunField() throws {
        let text = JSONRenderer.render(Self.report(dryRun: nil))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["dryRun"] == nil)
    }

    @Test func warningsFailOnlyWhenTheTaskSaysSo() {
        var report = Self.report(dryRun: nil)
        #expect(report.exitStatus == .ok)
        report.findings.warningsFail = true
        #expect(report.exitStatus == .failed)
    }

    @Test func textHasNoEscapesWithoutColour() {
        let text = TextRenderer(colour: false).render(Self.report(dryRun: true))
        #expect(!text.contains("\u{1B}"))
        #expect(text.contains("WARNING  /"))
        #expect(text.contains("[containers]"))
        #expect(text.contains("Plan (would run with --execute):"))
        #expect(text.hasSuffix("→ exit 0 — warning / (91% used)\n"))
        #expect(TextRenderer(colour: true).render(Self.report(dryRun: nil)).contains("\u{1B}[33m"))
    }

    @Test(
        arguments: [
            (true, [:], true), (false, [:], false), (true, ["NO_COLOR": "1"], false), (true, ["NO_COLOR": ""], false),
        ] as [(Bool, [String: String], Bool)])
    func colourOnlyOnATerminalWithoutNO_COLOR(isTerminal: Bool, environment: [String: String], expected: Bool) {
        #expect(TextRenderer.wantsColour(isTerminal: isTerminal, environment: environment) == expected)
    }

    /// The closing line names what failed and warned; long details wrap under their column.
    @Test func closingLineNamesProblemsAndDetailsWrap() {
        var findings = Findings()
        findings.add("docker", .failed, "daemon not answering: Cannot connect to the Docker daemon at unix:///var/run/docker.sock")
        findings.add("config backup", .warning, "no ailab-config archive in /srv/backups/ailab-config yet (run ailab config-backup)")
        findings.add("load", .ok, "0.50 0.40 0.30 on 8 CPUs")
        let report = Report(
            task: "healthcheck", host: "lab01", startedAt: Date(timeIntervalSince1970: 0),
            finishedAt: Date(timeIntervalSince1970: 1), dryRun: nil, findings: findings)
        let plain = TextRenderer(colour: false).render(report)
        #expect(
            plain.hasSuffix(
                "→ exit 1 — failed docker (daemon not answering), warning config backup (no ailab-config archive in /srv/backups/ailab-config yet…)\n"
            ))
        let narrow = TextRenderer(colour: false, width: 60).render(report)
        for line in narrow.split(separator: "\n") { #expect(line.count <= 60, "\(line)") }
        #expect(narrow.contains("\n                       "))
    }

    /// A 120-character URL and mount path at 80 columns: no line wider than 80, every name and
    /// detail whole, and a closing line of two lines at most that says how many more there are.
    @Test func eightyColumnsWithLongNames() {
        let url = "https://metrics.example.org/" + String(repeating: "a", count: 92)
        let mount = "/mnt/" + String(repeating: "datasets/", count: 12) + "imagenet"
        var findings = Findings()
        findings.add("http \(url)", .failed, "connect failed: (7) Failed to connect to metrics.example.org port 443 after 3 ms")
        findings.add(mount, .warning, "91% used (\(mount)), 9% inodes; threshold 85%")
        for index in 0..<12 { findings.add("service unit-\(index).service", .failed, "failed") }
        findings.add("load", .ok, "0.50 0.40 0.30 on 8 CPUs")
        findings.notes = ["Removal list:\n  " + mount + "\n\n  next"]
        let report = Report(
            task: "healthcheck", host: "lab01", startedAt: Date(timeIntervalSince1970: 0),
            finishedAt: Date(timeIntervalSince1970: 1), dryRun: nil, findings: findings)
        let text = TextRenderer(colour: false, width: 80).render(report)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for line in lines { #expect(line.count <= 80, "\(line.count): \(line)") }
        #expect(text.filter { !$0.isWhitespace }.contains(url) && text.filter { !$0.isWhitespace }.contains(mount + "\n".trimmed()))
        let closing = lines.drop { !$0.hasPrefix("Result:") }.filter { !$0.isEmpty }
        #expect(closing.count <= 2, "\(closing)")
        #expect(closing.joined().contains("more"), "\(closing)")
        #expect(TextRenderer(colour: false).render(report).contains("FAILED   http \(url)  connect failed"))
    }
}
