import Foundation
import Testing

/// The README's fenced block that follows `<!-- ailab:<name> -->`: tests run what administrators copy.
enum ReadmeBlock {
    static func yaml(_ name: String) throws -> String {
        let readme = try String(contentsOfFile: Repository.root + "/README.md", encoding: .utf8)
        guard let marker = readme.range(of: "<!-- ailab:\(name) -->\n```yaml\n"),
              let end = readme.range(of: "\n```", range: marker.upperBound..<readme.endIndex) else {
            throw Failure("README.md has no yaml block after <!-- ailab:\(name) -->")
        }
        return String(readme[marker.upperBound..<end.lowerBound]) + "\n"
    }
}

/// The README's alert rules under promtool: valid, silent on a healthy fleet, firing on each case.
@Suite struct AlertRuleTests {
    static func series(_ name: String, _ labels: String, _ values: String) -> String {
        "      - {series: '\(name){instance=\"h1\",job=\"node\"\(labels.isEmpty ? "" : ",")\(labels)}', values: '\(values)'}"
    }

    static let tests = """
        rule_files: [rules.yml]
        evaluation_interval: 1m
        tests:
          - name: a healthy host fires nothing
            interval: 1m
            input_series:
        \(["disk-watch", "healthcheck", "config-backup", "apt-cleanup", "kernel-cleanup", "docker-cleanup"].map {
            series("ailab_last_run_timestamp_seconds", "task=\"\($0)\"", "0+60x600") }.joined(separator: "\n"))
        \(series("up", "", "1x600"))
        \(series("ailab_check_status", "task=\"healthcheck\",section=\"host\",check=\"system\"", "0x600"))
        \(series("ailab_exit_code", "task=\"disk-watch\"", "0x600"))
        \(series("ailab_reboot_required", "task=\"healthcheck\"", "0x600"))
            alert_rule_test:
        \(["AilabTimerStopped", "AilabCheckFailed", "AilabTaskFailed", "AilabMetricsMissing", "AilabRebootPending"].map {
            "      - {eval_time: 5h, alertname: \($0), exp_alerts: []}" }.joined(separator: "\n"))
          - name: a stopped timer
            interval: 1m
            input_series:
        \(series("ailab_last_run_timestamp_seconds", "task=\"disk-watch\"", "0x300"))
            alert_rule_test:
              - eval_time: 4h
                alertname: AilabTimerStopped
                exp_alerts:
                  - exp_labels: {instance: h1, job: node, task: disk-watch, severity: warning}
                    exp_annotations: {summary: "ailab disk-watch has not run on h1"}
          - name: a failed check
            interval: 1m
            input_series:
        \(series("ailab_check_status", "task=\"healthcheck\",section=\"gpu\",check=\"xid 79 gpu0\"", "2x60"))
            alert_rule_test:
              - eval_time: 20m
                alertname: AilabCheckFailed
                exp_alerts:
                  - exp_labels: {instance: h1, job: node, task: healthcheck, section: gpu, check: xid 79 gpu0, severity: critical}
                    exp_annotations: {summary: "healthcheck: xid 79 gpu0 failed on h1"}
          - name: an exit-1 disk-watch whatever its status word
            interval: 1m
            input_series:
        \(series("ailab_exit_code", "task=\"disk-watch\"", "1x60"))
        \(series("ailab_check_status", "task=\"disk-watch\",check=\"/\"", "1x60"))
            alert_rule_test:
              - eval_time: 20m
                alertname: AilabTaskFailed
                exp_alerts:
                  - exp_labels: {instance: h1, job: node, task: disk-watch, severity: warning}
                    exp_annotations: {summary: "ailab disk-watch exited 1 on h1; read its log"}
              - {eval_time: 20m, alertname: AilabCheckFailed, exp_alerts: []}
          - name: node_exporter up without ailab metrics
            interval: 1m
            input_series:
        \(series("up", "", "1x120"))
            alert_rule_test:
              - {eval_time: 30m, alertname: AilabMetricsMissing, exp_alerts: []}
              - eval_time: 70m
                alertname: AilabMetricsMissing
                exp_alerts:
                  - exp_labels: {instance: h1, job: node, severity: warning}
                    exp_annotations: {summary: "h1 answers but has no ailab metrics (not installed, or the textfile folder is wrong)"}
          - name: a reboot pending for more than a day
            interval: 1m
            input_series:
        \(series("ailab_reboot_required", "task=\"healthcheck\"", "1x1600"))
            alert_rule_test:
              - {eval_time: 23h, alertname: AilabRebootPending, exp_alerts: []}
              - eval_time: 25h
                alertname: AilabRebootPending
                exp_alerts:
                  - exp_labels: {instance: h1, job: node, task: healthcheck, severity: info}
                    exp_annotations: {summary: "h1 has needed a reboot for over a day"}

        """

    func promtool(_ rules: String) throws -> (check: Ailab.Outcome, test: Ailab.Outcome) {
        let scratch = try Scratch()
        try scratch.write("rules.yml", rules)
        try scratch.write("tests.yml", Self.tests)
        let check = try Command.run("/bin/sh", ["-c", "cd '\(scratch.path)' && promtool check rules rules.yml"])
        let test = try Command.run("/bin/sh", ["-c", "cd '\(scratch.path)' && promtool test rules tests.yml"])
        return (check, test)
    }

    @Test func readmeRulesPassAndFireOnEveryCase() throws {
        try RealTools.require("promtool", package: "prometheus")
        let (check, test) = try promtool(try ReadmeBlock.yaml("alert-rules"))
        #expect(check.code == 0, "\(check.stdout)\(check.stderr)")
        #expect(test.code == 0, "\(test.stdout)\(test.stderr)")
        print("promtool test rules: \(test.stdout.split(separator: "\n").last ?? "")")
    }

    /// The tests can fail: a disk-watch allowed 30 hours of silence no longer fires at 4 hours.
    @Test func aBrokenThresholdIsCaught() throws {
        try RealTools.require("promtool", package: "prometheus")
        let broken = try ReadmeBlock.yaml("alert-rules").replacingOccurrences(of: "> 3 * 3600", with: "> 30 * 3600")
        let (check, test) = try promtool(broken)
        #expect(check.code == 0)
        #expect(test.code != 0)
        #expect((test.stdout + test.stderr).contains("AilabTimerStopped"))
    }
}
