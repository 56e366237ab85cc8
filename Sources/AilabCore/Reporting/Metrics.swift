import FoundationEssentials

/// One sample of a gauge (or a counter) for node_exporter's textfile collector.
package struct MetricSample: Sendable, Equatable {
    package var name: String
    package var help: String
    package var labels: [String: String]
    package var value: Double
    /// A count that only grows until it resets (a reboot): Prometheus's counter type.
    package var isCounter: Bool

    package init(_ name: String, _ help: String, labels: [String: String] = [:], value: Double, isCounter: Bool = false) {
        self.name = name
        self.help = help
        self.labels = labels
        self.value = value
        self.isCounter = isCounter
    }
}

extension Status {
    /// The value of `ailab_check_status`: 0 ok, 1 warning, 2 failed, 3 skipped, 4 absent.
    package var metricValue: Double {
        switch self {
        case .ok: 0
        case .warning: 1
        case .failed: 2
        case .skipped: 3
        case .absent: 4
        }
    }
}

/// Prometheus text exposition format (version 0.0.4): HELP and TYPE once per metric, samples
/// grouped under them, no timestamps (node_exporter's textfile collector rejects them).
package enum PrometheusText {
    package static func render(_ samples: [MetricSample]) -> String {
        var order: [String] = []
        var grouped: [String: [MetricSample]] = [:]
        for sample in samples {
            if grouped[sample.name] == nil { order.append(sample.name) }
            grouped[sample.name, default: []].append(sample)
        }
        var lines: [String] = []
        for name in order {
            let group = grouped[name] ?? []
            lines.append("# HELP \(name) \(escapeHelp(group[0].help))")
            lines.append("# TYPE \(name) \(group[0].isCounter ? "counter" : "gauge")")
            for sample in group {
                let labels = sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(escapeLabel($0.value))\"" }
                lines.append(name + (labels.isEmpty ? "" : "{\(labels.joined(separator: ","))}") + " " + format(sample.value))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func escapeLabel(_ value: String) -> String {
        value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
            .replacing("\n", with: "\\n")
    }

    static func escapeHelp(_ value: String) -> String {
        value.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

/// The metrics file of one run: what every task exports, plus the task's own figures.
package enum MetricsExport {
    package static let environmentKey = "AILAB_TEXTFILE_DIR"

    package static func samples(for report: Report) -> [MetricSample] {
        let task = ["task": report.task]
        var samples = [
            MetricSample(
                "ailab_exit_code", "Exit code of the last ailab run (0 ok, 1 failed, 2 usage).",
                labels: task, value: Double(report.exitStatus.rawValue)),
            MetricSample(
                "ailab_last_run_timestamp_seconds", "When the last ailab run finished, in seconds since the epoch.",
                labels: task, value: report.finishedAt.timeIntervalSince1970.rounded()),
            MetricSample(
                "ailab_duration_seconds", "How long the last ailab run took.",
                labels: task, value: (report.finishedAt.timeIntervalSince(report.startedAt) * 1000).rounded() / 1000),
        ]
        // One series per check; a check reported twice (a step that failed later) keeps its last status.
        var checks: [String: (labels: [String: String], check: Check)] = [:]
        var order: [String] = []
        for check in report.checks {
            var labels = task.merging(["check": check.name]) { old, _ in old }
            if let section = check.section { labels["section"] = section }
            let key = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            if checks[key] == nil { order.append(key) }
            checks[key] = (labels, check)
        }
        let kept = order.compactMap { checks[$0] }
        samples += kept.map {
            MetricSample(
                "ailab_check_status", "Check status: 0 ok, 1 warning, 2 failed, 3 skipped, 4 absent.",
                labels: $0.labels, value: $0.check.status.metricValue)
        }
        // What a failed or warning check said, for the alerts' annotations; cut short, one series each.
        samples += kept.filter { [.failed, .warning].contains($0.check.status) }.map {
            MetricSample(
                "ailab_check_detail_info", "What a failed or warning check said (its first 200 characters).",
                labels: $0.labels.merging(["detail": String($0.check.detail.prefix(200))]) { old, _ in old }, value: 1)
        }
        // The alert rules leave these out: an accepted fault pages no one while it holds.
        samples += kept.filter { $0.check.acknowledged != nil }.map {
            MetricSample(
                "ailab_check_acknowledged", "1 while an acknowledgement (ailab ack) holds for a failed or warning check.",
                labels: task.merging(["check": $0.check.name]) { old, _ in old }, value: 1)
        }
        samples += report.findings.metrics.map { sample in
            var sample = sample
            sample.labels["task"] = report.task
            return sample
        }
        return samples
    }

    /// Writes `<directory>/ailab-<task>.prom` atomically with mode 0644.
    package static func write(_ report: Report, to directory: String) throws {
        try AtomicFile.write(PrometheusText.render(samples(for: report)), to: directory + "/ailab-\(report.task).prom", mode: 0o644)
    }
}
