@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct PrometheusTextTests {
    @Test func helpAndTypeOncePerMetricAndSamplesGrouped() {
        let text = PrometheusText.render([
            MetricSample("a_total", "First.", labels: ["x": "1"], value: 1),
            MetricSample("b_ratio", "Second.", value: 0.5),
            MetricSample("a_total", "First.", labels: ["x": "2"], value: 2),
        ])
        #expect(
            text == """
                # HELP a_total First.
                # TYPE a_total gauge
                a_total{x="1"} 1
                a_total{x="2"} 2
                # HELP b_ratio Second.
                # TYPE b_ratio gauge
                b_ratio 0.5

                """)
    }

    @Test func labelValuesAreEscaped() {
        let text = PrometheusText.render([MetricSample("m", "Help with \\ and\nnewline.", labels: ["path": "a\"b\\c\nd"], value: 1)])
        #expect(text.contains(#"m{path="a\"b\\c\nd"} 1"#))
        #expect(text.contains(#"# HELP m Help with \\ and\nnewline."#))
    }

    @Test func specialValuesAndNoTimestamps() {
        #expect(PrometheusText.format(.nan) == "NaN")
        #expect(PrometheusText.format(.infinity) == "+Inf")
        #expect(PrometheusText.format(3) == "3")
        #expect(PrometheusText.format(0.25) == "0.25")
        let line = PrometheusText.render([MetricSample("m", "h", value: 7)]).split(separator: "\n").last
        #expect(line == "m 7")
    }

    @Test func everyReportExportsExitCodeTimestampDurationAndChecks() {
        var findings = Findings()
        findings.add("/", .warning, "91% used")
        findings.add("retention", .ok, "would delete 1")
        findings.add("retention", .failed, "rm failed")
        findings.measure("ailab_kernels_installed", "Kernels.", 3)
        findings.measure("ailab_kernels_installed", "Kernels.", 2)
        findings.warningsFail = true
        let report = Report(
            task: "disk-watch", host: "h", startedAt: Date(timeIntervalSince1970: 100),
            finishedAt: Date(timeIntervalSince1970: 101.5), dryRun: nil, findings: findings)
        let samples = MetricsExport.samples(for: report)
        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
        }
        #expect(value("ailab_exit_code", ["task": "disk-watch"]) == 1)
        #expect(value("ailab_last_run_timestamp_seconds") == 102)
        #expect(value("ailab_duration_seconds") == 1.5)
        #expect(value("ailab_check_status", ["check": "/"]) == 1)
        #expect(samples.filter { $0.name == "ailab_check_status" && $0.labels["check"] == "retention" }.map(\.value) == [2])
        #expect(samples.filter { $0.name == "ailab_kernels_installed" }.map(\.value) == [2])
        #expect(samples.allSatisfy { $0.labels["task"] == "disk-watch" })
    }

    /// What failed and warning checks said, for the alerts' annotations: one series each, cut at
    /// 200 characters, escaped; nothing for the other statuses.
    @Test func failedAndWarningChecksExportTheirDetail() {
        var findings = Findings()
        findings.add(
            "xid 79 gpu0", .failed, "GPU has fallen off the bus \"PCI:0000:3b:00\"\n" + String(repeating: "x", count: 300), section: "gpu")
        findings.add("next boot", .warning, "no NVIDIA module", section: "gpu")
        findings.add("driver", .ok, "550.127")
        findings.add("smartctl", .absent, "not installed")
        let report = Report(
            task: "healthcheck", host: "h", startedAt: Date(timeIntervalSince1970: 100),
            finishedAt: Date(timeIntervalSince1970: 101), dryRun: nil, findings: findings)
        let details = MetricsExport.samples(for: report).filter { $0.name == "ailab_check_detail_info" }
        #expect(details.map { $0.labels["check"] } == ["xid 79 gpu0", "next boot"])
        #expect(details.allSatisfy { $0.value == 1 && $0.labels["section"] == "gpu" && $0.labels["task"] == "healthcheck" })
        #expect(details.first?.labels["detail"]?.count == 200)
        #expect(
            PrometheusText.render(details).contains(
                #"ailab_check_detail_info{check="xid 79 gpu0",detail="GPU has fallen off the bus \"PCI:0000:3b:00\"\nxxx"#))
    }
}
