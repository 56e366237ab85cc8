/// The Xid errors of this boot, from the shared read of the kernel log (root only), one check
/// per GPU and code.
enum XidProbe {
    static func checks(_ outcome: KernelLogScan.Outcome, gpuIndex: [String: Int]) -> ([Check], [MetricSample], [XidSummary]) {
        switch outcome {
        case .needsRoot:
            return ([Check("xid", .skipped, "skipped (needs root)")], [], [])
        case .noTool:
            return ([Check("xid", .absent, "neither journalctl nor dmesg is installed to read the kernel log")], [], [])
        case .unreadable(let reason):
            return (
                [Check("xid", .warning, reason, next: "read the kernel log by hand: sudo journalctl -k -b | grep -E 'NVRM: Xid|SXid'")], [],
                []
            )
        case .read(let read):
            let summaries = read.xids.summaries
            guard !summaries.isEmpty else { return ([Check("xid", .ok, "no Xid errors this boot (\(read.source))")], [], []) }
            var checks: [Check] = []
            var metrics: [MetricSample] = []
            for summary in summaries {
                let gpu = gpuIndex[summary.pci].map { "gpu\($0)" } ?? summary.pci
                var detail = "\(summary.count)× \(summary.meaning) on \(summary.pci)"
                if let first = summary.first, let last = summary.last {
                    detail += first == last ? ", at \(first)" : ", first \(first), last \(last)"
                }
                if !summary.processes.isEmpty { detail += "; process " + summary.processes.joined(separator: ", ") }
                if !summary.migInstances.isEmpty { detail += "; MIG " + summary.migInstances.joined(separator: ", ") }
                checks.append(
                    Check(
                        "xid \(summary.code) \(gpu)", summary.action.status, detail,
                        next: summary.action.nextStep(code: summary.code, gpu: gpuIndex[summary.pci])))
                metrics.append(
                    MetricSample(
                        "ailab_gpu_xid_errors", "Xid errors the kernel logged this boot, by GPU and code.",
                        labels: ["gpu": gpuIndex[summary.pci].map(String.init) ?? summary.pci, "xid": String(summary.code)],
                        value: Double(summary.count)))
            }
            return (checks, metrics, summaries)
        }
    }
}
