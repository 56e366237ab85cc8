import FoundationEssentials

/// A GPU's check from its `--query-gpu` row: the verdict with its reasons, what to do about the
/// worst of them, and its metrics. The bounds are here, once.
extension GPUState {
    package var metrics: [MetricSample] {
        let labels = ["gpu": String(index), "name": name]
        let figures: [(String, String, Double?)] = [
            ("ailab_gpu_temperature_celsius", "GPU core temperature.", temperatureC.map(Double.init)),
            ("ailab_gpu_utilization_ratio", "Share of time the GPU was busy.", utilizationPercent.map { Double($0) / 100 }),
            ("ailab_gpu_memory_used_bytes", "GPU memory in use.", memoryUsedMiB.map { Double($0) * 1_048_576 }),
            ("ailab_gpu_memory_total_bytes", "GPU memory in all.", memoryTotalMiB.map { Double($0) * 1_048_576 }),
            ("ailab_gpu_ecc_uncorrected_errors", "Uncorrected ECC errors since the driver loaded.", uncorrectedECC.map(Double.init)),
        ]
        var samples = figures.compactMap { name, help, value in value.map { MetricSample(name, help, labels: labels, value: $0) } }
        let gpu = ["gpu": String(index)]
        if let linkWidth {
            samples.append(
                MetricSample("ailab_gpu_pcie_link_width", "PCIe lanes the link runs at now.", labels: gpu, value: Double(linkWidth)))
        }
        if let linkWidthMax {
            samples.append(
                MetricSample(
                    "ailab_gpu_pcie_link_width_max", "PCIe lanes the GPU and slot can run at.", labels: gpu, value: Double(linkWidthMax)))
        }
        for (reason, active) in clockEvents.sorted(by: { $0.key < $1.key }) {
            samples.append(
                MetricSample(
                    "ailab_gpu_clock_event_active", "Whether a hardware clock slowdown is active (1) or not (0).",
                    labels: gpu.merging(["reason": reason]) { old, _ in old }, value: active ? 1 : 0))
        }
        if let processes {
            samples.append(
                MetricSample("ailab_gpu_processes", "Compute processes on the GPU.", labels: gpu, value: Double(processes.count)))
            samples += memoryByHolder(processes).map { holder, mebibytes in
                MetricSample(
                    "ailab_gpu_holder_memory_bytes", "GPU memory held by each owner (the largest four, the rest as other).",
                    labels: gpu.merging(["holder": holder]) { old, _ in old }, value: Double(mebibytes) * 1_048_576)
            }
        }
        if let persistenceMode {
            samples.append(
                MetricSample(
                    "ailab_gpu_persistence_mode", "Whether persistence mode is on (1) or off (0).", labels: gpu,
                    value: persistenceMode ? 1 : 0))
        }
        return samples
    }

    /// Memory per holder (owner, else user, else pid): the four largest by name, the rest summed as "other".
    func memoryByHolder(_ processes: [GPUProcess]) -> [(String, Int)] {
        let holders = Dictionary(
            grouping: processes, by: { $0.owner?.description ?? $0.user.map { "user \($0)" } ?? "pid \($0.pid)" }
        ).mapValues { $0.compactMap(\.memoryMiB).reduce(0, +) }
        let ranked = holders.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let rest = ranked.dropFirst(Self.holderSeries).map(\.value).reduce(0, +)
        return ranked.prefix(Self.holderSeries).map { ($0.key, $0.value) } + (ranked.count > Self.holderSeries ? [("other", rest)] : [])
    }

    /// Series per GPU for `ailab_gpu_holder_memory_bytes`, so that a host of many small jobs stays bounded.
    static let holderSeries = 4

    /// Who holds the GPU, in words: idle, or its processes.
    var workload: String? {
        guard let processes else { return nil }
        if processes.isEmpty { return utilizationPercent == 0 ? "idle" : "no compute process" }
        let shown = processes.prefix(3).map(\.summary).joined(separator: ", ")
        return "\(processes.count) process(es): " + shown + (processes.count > 3 ? ", and \(processes.count - 3) more" : "")
    }

    /// What to do about the worst finding of `verdict`, in one line.
    package var nextStep: String? {
        let reset = "sudo nvidia-smi -r -i \(index)"
        if let recoveryAction { return "drain gpu\(index), then do what the driver asks: \(recoveryAction.lowercased())" }
        if uncorrectedECC ?? 0 > 0 || remappedRowsFailure == true {
            return "drain gpu\(index) and reset it (\(reset)) or reboot; if errors come back, ask the vendor for a replacement"
        }
        if retiredPagesPending == true || remappedRowsPending == true { return "reset gpu\(index) when its jobs allow (\(reset))" }
        if runningHot { return "check the fans and airflow (nvidia-smi -q -d TEMPERATURE -i \(index))" }
        if let width = linkWidth, let maximum = linkWidthMax, width < maximum {
            return "reseat the card or check its slot and riser at the next maintenance (nvidia-smi -q -i \(index))"
        }
        if clockEvents.values.contains(true) { return "check power and cooling (nvidia-smi -q -d PERFORMANCE -i \(index))" }
        if persistenceMode == false { return "sudo systemctl enable --now nvidia-persistenced" }
        return nil
    }

    /// Within this many degrees of the GPU's own slowdown limit, it runs hot.
    static let hotMarginC = 5
    /// Where the driver gives no limit: the fixed bound.
    static let hotCelsius = 85

    var runningHot: Bool {
        if let margin = temperatureMarginC { return margin <= Self.hotMarginC }
        return (temperatureC ?? 0) >= Self.hotCelsius
    }

    package var verdict: (Status, String) {
        var failures: [String] = []
        var warnings: [String] = []
        if let recoveryAction { failures.append("the driver asks for recovery: \(recoveryAction)") }
        if let ecc = uncorrectedECC, ecc > 0 { failures.append("\(ecc) uncorrected ECC errors") }
        if remappedRowsFailure == true { failures.append("row remapping failed") }
        if retiredPagesPending == true { warnings.append("page retirement pending (needs a GPU reset)") }
        if remappedRowsPending == true { warnings.append("row remapping pending (needs a GPU reset)") }
        if runningHot {
            warnings.append(
                temperatureMarginC.map { "running hot: \($0) °C from its slowdown limit" } ?? "running hot (\(Self.hotCelsius) °C or more)")
        }
        // The link generation drops at idle to save power; only the width says a card sits badly.
        if let width = linkWidth, let maximum = linkWidthMax, width < maximum { warnings.append("PCIe link x\(width) of x\(maximum)") }
        let slowdowns = clockEvents.filter(\.value).keys.sorted()
        if !slowdowns.isEmpty {
            warnings.append("clocks slowed by " + slowdowns.map { $0.replacing("_", with: " ") }.joined(separator: ", "))
        }
        if persistenceMode == false { warnings.append("persistence mode off (the driver state is torn down between jobs)") }
        var facts = ["driver \(driver)"]
        if let temperatureC { facts.append("\(temperatureC) °C") }
        if let utilizationPercent { facts.append("\(utilizationPercent)% busy") }
        if let used = memoryUsedMiB, let total = memoryTotalMiB { facts.append("memory \(used)/\(total) MiB") }
        facts.append(uncorrectedECC.map { "ECC uncorrected \($0)" } ?? "ECC n/a")
        if let draw = powerDrawWatts, let limit = powerLimitWatts { facts.append("power \(Int(draw.rounded()))/\(Int(limit.rounded())) W") }
        if let width = linkWidth, width >= linkWidthMax ?? 0 { facts.append("PCIe x\(width)") }
        if let workload { facts.append(workload) }
        let detail = ([name] + failures + warnings + facts).joined(separator: "; ")
        if !failures.isEmpty { return (.failed, detail) }
        return (warnings.isEmpty ? .ok : .warning, detail)
    }
}
