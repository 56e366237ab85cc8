import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The fenced yaml block that follows `<!-- ailab:<name> -->` in a page of the docs: tests run
/// what administrators copy.
enum DocBlock {
    static func yaml(_ name: String, in page: String) throws -> String {
        let text = try String(contentsOfFile: Repository.root + "/" + page, encoding: .utf8)
        guard let marker = text.range(of: "<!-- ailab:\(name) -->\n```yaml\n"),
            let end = text.range(of: "\n```", range: marker.upperBound..<text.endIndex)
        else {
            throw Failure("\(page) has no yaml block after <!-- ailab:\(name) -->")
        }
        return String(text[marker.upperBound..<end.lowerBound]) + "\n"
    }
}

/// docs/METRICS.md's alert rules under promtool: valid, silent on a healthy fleet, firing on each case.
@Suite(.timeLimit(.minutes(10))) struct AlertRuleTests {
    static func series(_ name: String, _ labels: String, _ values: String) -> String {
        "      - {series: '\(name){instance=\"h1\",job=\"node\"\(labels.isEmpty ? "" : ",")\(labels)}', values: '\(values)'}"
    }

    static let alerts = ["AilabTimerStopped", "AilabCheckFailed", "AilabCheckWarning", "AilabTaskFailed", "AilabMetricsMissing"]

    /// One case per alert, a healthy host, a full disk that two tasks report, and a warning's 6 hours.
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
            alert_rule_test:
        \(alerts.map { "      - {eval_time: 9h, alertname: \($0), exp_alerts: []}" }.joined(separator: "\n"))
          - name: a stopped timer
            interval: 1m
            input_series:
        \(series("ailab_last_run_timestamp_seconds", "task=\"disk-watch\"", "0x300"))
            alert_rule_test:
              - eval_time: 4h
                alertname: AilabTimerStopped
                exp_alerts:
                  - exp_labels: {instance: h1, job: node, task: disk-watch, severity: warning}
                    exp_annotations:
                      summary: "ailab disk-watch has not run on h1"
                      runbook_url: "https://ailab.example.org/docs/METRICS.md#ailabtimerstopped"
          - name: a full disk that disk-watch and healthcheck both report fires one critical alert
            interval: 1m
            input_series:
        \(series("ailab_check_status", "task=\"disk-watch\",check=\"/\"", "2x60"))
        \(series("ailab_check_status", "task=\"healthcheck\",section=\"storage\",check=\"/\"", "2x60"))
        \(series("ailab_check_detail_info", "task=\"disk-watch\",check=\"/\",detail=\"99% used, 10.0 KiB free\"", "1x60"))
        \(series("ailab_check_detail_info", "task=\"healthcheck\",section=\"storage\",check=\"/\",detail=\"99% used, 10.0 KiB free\"", "1x60"))
        \(series("ailab_exit_code", "task=\"disk-watch\"", "1x60"))
        \(series("ailab_exit_code", "task=\"healthcheck\"", "1x60"))
            alert_rule_test:
              - eval_time: 20m
                alertname: AilabCheckFailed
                exp_alerts:
                  - exp_labels: {instance: h1, check: /, severity: critical}
                    exp_annotations:
                      summary: "/ failed on h1"
                      detail: "99% used, 10.0 KiB free"
                      runbook_url: "https://ailab.example.org/docs/METRICS.md#ailabcheckfailed"
              - {eval_time: 20m, alertname: AilabTaskFailed, exp_alerts: []}
              - {eval_time: 20m, alertname: AilabCheckWarning, exp_alerts: []}
          - name: a warning fires only after its 6 hours
            interval: 1m
            input_series:
        \(series("ailab_check_status", "task=\"healthcheck\",section=\"gpu\",check=\"next boot\"", "1x600"))
        \(series("ailab_check_detail_info", "task=\"healthcheck\",section=\"gpu\",check=\"next boot\",detail=\"the next boot into 6.8.0-51-generic would come up without the NVIDIA driver\"", "1x600"))
            alert_rule_test:
              - {eval_time: 5h, alertname: AilabCheckWarning, exp_alerts: []}
              - eval_time: 7h
                alertname: AilabCheckWarning
                exp_alerts:
                  - exp_labels: {instance: h1, check: next boot, severity: warning}
                    exp_annotations:
                      summary: "next boot has warned on h1 for 6 hours"
                      detail: "the next boot into 6.8.0-51-generic would come up without the NVIDIA driver"
                      runbook_url: "https://ailab.example.org/docs/METRICS.md#ailabcheckwarning"
              - {eval_time: 7h, alertname: AilabCheckFailed, exp_alerts: []}
          - name: a configuration file that fails to read (exit 2) fires its check's alert
            interval: 1m
            input_series:
        \(series("ailab_check_status", "task=\"disk-watch\",check=\"configuration\"", "2x60"))
        \(series("ailab_check_detail_info", "task=\"disk-watch\",check=\"configuration\",detail=\"line 2: disk.treshold: unknown key\"", "1x60"))
        \(series("ailab_exit_code", "task=\"disk-watch\"", "2x60"))
            alert_rule_test:
              - eval_time: 20m
                alertname: AilabCheckFailed
                exp_alerts:
                  - exp_labels: {instance: h1, check: configuration, severity: critical}
                    exp_annotations:
                      summary: "configuration failed on h1"
                      detail: "line 2: disk.treshold: unknown key"
                      runbook_url: "https://ailab.example.org/docs/METRICS.md#ailabcheckfailed"
          - name: an acknowledged failed check fires nothing, and fires once its acknowledgement is gone
            interval: 1m
            input_series:
        \(series("ailab_check_status", "task=\"healthcheck\",section=\"storage\",check=\"/var\"", "2x150"))
        \(series("ailab_check_detail_info", "task=\"healthcheck\",section=\"storage\",check=\"/var\",detail=\"97% used\"", "1x150"))
        \(series("ailab_check_acknowledged", "task=\"healthcheck\",check=\"/var\"", "1x60 _x90"))
        \(series("ailab_exit_code", "task=\"healthcheck\"", "0x60 1x90"))
            alert_rule_test:
              - {eval_time: 50m, alertname: AilabCheckFailed, exp_alerts: []}
              - {eval_time: 50m, alertname: AilabTaskFailed, exp_alerts: []}
              - eval_time: 100m
                alertname: AilabCheckFailed
                exp_alerts:
                  - exp_labels: {instance: h1, check: /var, severity: critical}
                    exp_annotations:
                      summary: "/var failed on h1"
                      detail: "97% used"
                      runbook_url: "https://ailab.example.org/docs/METRICS.md#ailabcheckfailed"
          - name: an exit 1 that no check explains
            interval: 1m
            input_series:
        \(series("ailab_exit_code", "task=\"upgrade\"", "1x60"))
        \(series("ailab_check_status", "task=\"upgrade\",check=\"simulation\"", "0x60"))
            alert_rule_test:
              - eval_time: 20m
                alertname: AilabTaskFailed
                exp_alerts:
                  - exp_labels: {instance: h1, job: node, task: upgrade, severity: warning}
                    exp_annotations:
                      summary: "ailab upgrade exited 1 on h1 with no failed check; read its log"
                      runbook_url: "https://ailab.example.org/docs/METRICS.md#ailabtaskfailed"
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
                    exp_annotations:
                      summary: "h1 answers but has no ailab metrics (not installed, or the textfile folder is wrong)"
                      runbook_url: "https://ailab.example.org/docs/METRICS.md#ailabmetricsmissing"

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
        let rules = try DocBlock.yaml("alert-rules", in: "docs/METRICS.md")
        let named = rules.split(separator: "\n").compactMap { line in
            line.trimmingCharacters(in: .whitespaces).hasPrefix("- alert: ") ? String(line.split(separator: " ").last ?? "") : nil
        }
        #expect(named == Self.alerts)
        for alert in named {
            #expect(
                Self.tests.contains("alertname: \(alert)\n        exp_alerts:\n          - exp_labels"), "\(alert) never fires in a test")
        }
        let (check, test) = try promtool(rules)
        #expect(check.code == 0, "\(check.stdout)\(check.stderr)")
        #expect(test.code == 0, "\(test.stdout)\(test.stderr)")
        print("promtool test rules: \(test.stdout.split(separator: "\n").last ?? "")")
    }

    /// The tests can fail: a disk-watch allowed 30 hours of silence no longer fires at 4 hours.
    @Test func aBrokenThresholdIsCaught() throws {
        try RealTools.require("promtool", package: "prometheus")
        let broken = try DocBlock.yaml("alert-rules", in: "docs/METRICS.md").replacingOccurrences(of: "> 3 * 3600", with: "> 30 * 3600")
        let (check, test) = try promtool(broken)
        #expect(check.code == 0)
        #expect(test.code != 0)
        #expect((test.stdout + test.stderr).contains("AilabTimerStopped"))
    }
}

/// The role's timer lists follow the task catalogue: every scheduled task, and the ones an
/// install enables.
@Suite(.timeLimit(.minutes(2))) struct RoleCatalogueTests {
    /// `key: [a, b, c]` in one of the role's YAML files.
    static func list(_ key: String, in file: String) throws -> [String] {
        let text = try String(contentsOfFile: Repository.root + "/ansible/roles/ailab/" + file, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(key + ": [") }, "\(file) has no \(key)")
        return line.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }.split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
    }

    @Test func theRolesTimerListsAreTheCatalogues() throws {
        #expect(Set(try Self.list("ailab_all_timers", in: "vars/main.yml")) == Set(TaskCatalog.scheduled.map(\.name)))
        #expect(
            Set(try Self.list("ailab_timers", in: "defaults/main.yml")) == Set(TaskCatalog.scheduled.filter(\.enabledOnInstall).map(\.name))
        )
    }
}
