/// Xid errors of the current boot, from the kernel log (root only). journalctl keeps only the
/// driver's lines (`--grep`), so a long-running host's log is read whole; a read that was cut
/// anyway says so as a warning instead of calling the GPUs healthy.
enum XidProbe {
    enum Outcome {
        case needsRoot
        case noTool
        case unreadable(String)
        case events([XidEvent], source: String, cut: Bool)
    }

    static let journal = ["-k", "-b", "--no-pager", "-o", "short-iso"]
    /// The lines KernelXids reads: Xids, SXids, and the bare "fallen off the bus".
    static let driverLines = ["--grep", "NVRM: (Xid|GPU .*fallen off the bus)|SXid"]

    /// `journalctl -k -b --grep …`; the whole journal where journalctl has no pattern matching;
    /// `dmesg` where journald keeps no kernel log.
    static func read(_ probe: HealthProbe) async throws -> Outcome {
        guard probe.isRoot else { return .needsRoot }
        if probe.has("journalctl") {
            var result = try await probe.call("journalctl", journal + driverLines)
            if result.stderr.contains("pattern matching") { result = try await probe.call("journalctl", journal) }
            // With --grep, no match is exit 1 and "-- No entries --".
            let empty = result.stdout.isEmpty || result.stdout.hasPrefix("-- No entries --")
            if result.succeeded || (empty && result.stderr.isEmpty) {
                return .events(KernelXids.parse(result.stdout), source: "journalctl -k -b", cut: result.truncated)
            }
        }
        guard probe.has("dmesg") else { return .noTool }
        let dmesg = try await probe.call("dmesg", ["--time-format", "iso"])
        guard dmesg.succeeded else { return .unreadable("dmesg: \(dmesg.message ?? dmesg.termination.description)") }
        return .events(KernelXids.parse(dmesg.stdout), source: "dmesg", cut: dmesg.truncated)
    }

    /// One check per GPU and code, named after the GPU's index where the driver knows it.
    static func checks(_ outcome: Outcome, gpuIndex: [String: Int]) -> ([Check], [MetricSample], [XidSummary]) {
        switch outcome {
        case .needsRoot:
            return ([Check("xid", .skipped, "skipped (needs root)")], [], [])
        case .noTool:
            return ([Check("xid", .absent, "neither journalctl nor dmesg is installed to read the kernel log")], [], [])
        case .unreadable(let reason):
            return ([Check("xid", .warning, reason, next: "read the kernel log by hand: sudo journalctl -k -b | grep -E 'NVRM: Xid|SXid'")], [], [])
        case .events(let events, let source, let cut):
            let summaries = KernelXids.summarize(events)
            let cutCheck = Check("xid", .warning, "the kernel log (\(source)) was cut at ailab's output limit: later Xids are not shown",
                                 next: "read the rest by hand: sudo journalctl -k -b | grep -E 'NVRM: Xid|SXid' | tail")
            guard !summaries.isEmpty else { return ([cut ? cutCheck : Check("xid", .ok, "no Xid errors this boot (\(source))")], [], []) }
            var checks: [Check] = cut ? [cutCheck] : []
            var metrics: [MetricSample] = []
            for summary in summaries {
                let gpu = gpuIndex[summary.pci].map { "gpu\($0)" } ?? summary.pci
                var detail = "\(summary.count)× \(summary.meaning) on \(summary.pci)"
                if let first = summary.first, let last = summary.last { detail += first == last ? ", at \(first)" : ", first \(first), last \(last)" }
                if !summary.processes.isEmpty { detail += "; process " + summary.processes.joined(separator: ", ") }
                if !summary.migInstances.isEmpty { detail += "; MIG " + summary.migInstances.joined(separator: ", ") }
                checks.append(Check("xid \(summary.code) \(gpu)", summary.action.status, detail,
                                    next: summary.action.nextStep(code: summary.code, gpu: gpuIndex[summary.pci])))
                metrics.append(MetricSample("ailab_gpu_xid_errors", "Xid errors the kernel logged this boot, by GPU and code.",
                                            labels: ["gpu": gpuIndex[summary.pci].map(String.init) ?? summary.pci, "xid": String(summary.code)],
                                            value: Double(summary.count)))
            }
            return (checks, metrics, summaries)
        }
    }
}
