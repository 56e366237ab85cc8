@testable import AilabCore
import Foundation
import Testing

@Suite struct RendererTests {
    static func report(dryRun: Bool?) -> Report {
        var findings = Findings()
        findings.add("/", .warning, "91% used")
        findings.add("docker", .absent, "docker is not installed", section: "containers")
        findings.plan = ["apt-get -y autoremove --purge  # remove 2 packages"]
        findings.set("threshold", 85)
        return Report(task: "disk-watch", host: "lab01", startedAt: Date(timeIntervalSince1970: 0),
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
        #expect(text.hasSuffix("→ exit 0\n"))
        #expect(TextRenderer(colour: true).render(Self.report(dryRun: nil)).contains("\u{1B}[33m"))
    }

    @Test(arguments: [
        (true, [:], true), (false, [:], false), (true, ["NO_COLOR": "1"], false), (true, ["NO_COLOR": ""], false),
    ] as [(Bool, [String: String], Bool)])
    func colourOnlyOnATerminalWithoutNO_COLOR(isTerminal: Bool, environment: [String: String], expected: Bool) {
        #expect(TextRenderer.wantsColour(isTerminal: isTerminal, environment: environment) == expected)
    }
}
