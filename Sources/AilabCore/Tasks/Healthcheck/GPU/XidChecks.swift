/// The Xid errors of this boot, from the shared read of the kernel log (root only), one check
/// per GPU and code. They stand whatever nvidia-smi does: hung, erroring or not installed.
enum XidChecks {
    /// The checks, metrics and `xids` field, and the summaries behind them.
    struct Found {
        var findings = Findings()
        var summaries: [XidSummary] = []
    }

    static func checks(_ outcome: KernelLogScan.Outcome, gpuIndex: [String: Int]) -> Found {
        var found = Found()
        found.findings.set("xids", [XidSummary]())
        switch outcome {
        case .needsRoot:
            found.findings.add("xid", .skipped, "skipped (needs root)")
        case .noTool:
            found.findings.add("xid", .absent, "neither journalctl nor dmesg is installed to read the kernel log")
        case .unreadable(let reason):
            found.findings.add(
                "xid", .warning, reason, next: "read the kernel log by hand: sudo journalctl -k -b | grep -E 'NVRM: Xid|SXid'")
        case .read(let read):
            let summaries = read.xids.summaries
            found.findings.events = []
            guard !summaries.isEmpty else {
                found.findings.add("xid", .ok, "no Xid errors this boot (\(read.source))")
                return found
            }
            for summary in summaries {
                let gpu = gpuIndex[summary.pci].map { "gpu\($0)" } ?? summary.pci
                var detail = "\(summary.count)× \(summary.meaning) on \(summary.pci)"
                if let first = summary.first, let last = summary.last {
                    detail += first == last ? ", at \(first)" : ", first \(first), last \(last)"
                }
                if !summary.processes.isEmpty { detail += "; process " + summary.processes.joined(separator: ", ") }
                if !summary.migInstances.isEmpty { detail += "; MIG " + summary.migInstances.joined(separator: ", ") }
                let name = "xid \(summary.code) \(gpu)"
                found.findings.add(
                    name, summary.action.status, detail, next: summary.action.nextStep(code: summary.code, gpu: gpuIndex[summary.pci]))
                found.findings.events?.append(
                    LoggedEvent(
                        kind: "xid_\(summary.code)", device: summary.pci, count: summary.count, status: summary.action.status,
                        check: name, hardware: summary.action == .resetGPU || XidCatalog.containedECC == summary.code))
                found.findings.metrics.append(
                    MetricSample(
                        "ailab_gpu_xid_errors", "Xid errors the kernel logged this boot, by GPU and code.",
                        labels: ["gpu": gpuIndex[summary.pci].map(String.init) ?? summary.pci, "xid": String(summary.code)],
                        value: Double(summary.count)))
            }
            found.summaries = summaries
            found.findings.set("xids", summaries)
        }
        return found
    }

    /// The Xids that call for a reset or a reboot, as the kernel said them, to stand beside a
    /// failed nvidia-smi: "; the kernel says Xid 79 on 0000:a1:00 at … (GPU has fallen off the bus)".
    static func evidence(_ summaries: [XidSummary]) -> String {
        let serious = summaries.filter { $0.action == .resetGPU }
        guard !serious.isEmpty else { return "" }
        return "; the kernel says "
            + serious.map { summary in
                "Xid \(summary.code) on \(summary.pci)" + (summary.last.map { " at \($0)" } ?? "") + " (\(summary.meaning))"
            }.joined(separator: ", ")
    }

    /// The catalogue's step for the first Xid that calls for a reset or a reboot.
    static func firstStep(_ summaries: [XidSummary]) -> String? {
        summaries.first { $0.action == .resetGPU }.map { $0.action.nextStep(code: $0.code, gpu: nil) }
    }
}
