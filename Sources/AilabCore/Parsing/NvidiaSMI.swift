import FoundationEssentials

/// One GPU's state, from `nvidia-smi --query-gpu` CSV.
package struct GPUState: Sendable, Equatable, Codable {
    package var index: Int
    package var name: String
    package var driver: String
    package var temperatureC: Int?
    /// `temperature.gpu.tlimit`: degrees left before the GPU's own slowdown limit (T.Limit);
    /// nil on drivers and GPUs that do not report it.
    package var temperatureMarginC: Int?
    package var utilizationPercent: Int?
    package var memoryUsedMiB: Int?
    package var memoryTotalMiB: Int?
    /// Uncorrected ECC errors since the driver loaded; nil where the GPU has no ECC.
    package var uncorrectedECC: Int?
    package var retiredPagesPending: Bool?
    package var remappedRowsPending: Bool?
    package var remappedRowsFailure: Bool?
    /// "00000000:3B:00.0"
    package var pciBusID: String?
    package var linkWidth: Int?
    package var linkWidthMax: Int?
    /// The hardware clock slowdowns that are active, by nvidia-smi's reason name.
    package var clockEvents: [String: Bool] = [:]
    package var persistenceMode: Bool?
    /// What the driver asks to be done to the GPU ("Reset", "Reboot", "Drain P2P", "Drain and
    /// Reset"); nil for "None" and on drivers that do not know the field.
    package var recoveryAction: String?
    package var powerDrawWatts: Double?
    package var powerLimitWatts: Double?

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
        if let persistenceMode {
            samples.append(
                MetricSample(
                    "ailab_gpu_persistence_mode", "Whether persistence mode is on (1) or off (0).", labels: gpu,
                    value: persistenceMode ? 1 : 0))
        }
        return samples
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
        let detail = ([name] + failures + warnings + facts).joined(separator: "; ")
        if !failures.isEmpty { return (.failed, detail) }
        return (warnings.isEmpty ? .ok : .warning, detail)
    }
}

package enum NvidiaSMI {
    /// The fields asked of `--query-gpu`. Drivers before R450 do not know the remapped-row
    /// fields and refuse the whole query; the probe then asks again without them.
    package static let queryFields =
        [
            "index", "name", "driver_version", "pci.bus_id", "temperature.gpu", "temperature.gpu.tlimit", "utilization.gpu",
            "memory.used", "memory.total",
            "ecc.errors.uncorrected.volatile.total", "retired_pages.pending", "remapped_rows.pending",
            "remapped_rows.failure", "pcie.link.width.current", "pcie.link.width.max", "persistence_mode", "power.draw",
            "power.limit", "gpu_recovery_action",
        ] + slowdownReasons.map { "clocks_event_reasons." + $0 }

    /// The hardware slowdowns judged; drivers before R535 call them `clocks_throttle_reasons.*`.
    package static let slowdownReasons = ["hw_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown"]

    /// The name an older driver knows a refused field by, if it has one.
    package static func olderName(of field: String) -> String? {
        field.hasPrefix("clocks_event_reasons.") ? field.replacing("clocks_event_reasons.", with: "clocks_throttle_reasons.") : nil
    }

    /// Parses `--query-gpu=... --format=csv[,nounits]` output with its header line. Columns
    /// are found by name, so any superset of `queryFields` in any order parses.
    package static func parseCSV(_ output: String) throws -> [GPUState] {
        let lines = output.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        guard let header = lines.first else { throw ParseError("nvidia-smi", "no output") }
        // "memory.used [MiB]" is the header of memory.used; values carry units unless nounits.
        let names = splitCSV(header).map { $0.split(separator: " [").first.map(String.init) ?? $0 }
        for required in ["name", "driver_version"] where !names.contains(required) {
            throw ParseError("nvidia-smi", "no \(required) column in header: \(header.prefix(80))")
        }
        return try lines.dropFirst().enumerated().map { position, line in
            let values = splitCSV(line)
            guard values.count == names.count else {
                throw ParseError("nvidia-smi", "\(values.count) values for \(names.count) columns: \(line.prefix(80))")
            }
            let row = Dictionary(zip(names, values), uniquingKeysWith: { first, _ in first })
            return GPUState(
                index: number(row["index"]) ?? position, name: row["name"] ?? "", driver: row["driver_version"] ?? "",
                temperatureC: number(row["temperature.gpu"]), temperatureMarginC: number(row["temperature.gpu.tlimit"]),
                utilizationPercent: number(row["utilization.gpu"]),
                memoryUsedMiB: number(row["memory.used"]), memoryTotalMiB: number(row["memory.total"]),
                uncorrectedECC: number(row["ecc.errors.uncorrected.volatile.total"]),
                retiredPagesPending: flag(row["retired_pages.pending"]),
                remappedRowsPending: flag(row["remapped_rows.pending"]),
                remappedRowsFailure: flag(row["remapped_rows.failure"]),
                pciBusID: row["pci.bus_id"].flatMap { $0.isEmpty || $0.hasPrefix("[") ? nil : $0 },
                linkWidth: number(row["pcie.link.width.current"]), linkWidthMax: number(row["pcie.link.width.max"]),
                clockEvents: Dictionary(
                    uniqueKeysWithValues: slowdownReasons.compactMap { reason in
                        active(row["clocks_event_reasons." + reason] ?? row["clocks_throttle_reasons." + reason]).map { (reason, $0) }
                    }),
                persistenceMode: enabled(row["persistence_mode"]),
                recoveryAction: row["gpu_recovery_action"].flatMap {
                    $0.isEmpty || $0 == "None" || $0.contains("N/A") || $0.hasPrefix("[") ? nil : $0
                },
                powerDrawWatts: decimal(row["power.draw"]), powerLimitWatts: decimal(row["power.limit"]))
        }
    }

    /// The field named by `Field "remapped_rows.pending" is not a valid field to query.`
    package static func refusedField(_ output: String) -> String? {
        guard let line = output.split(whereSeparator: \.isNewline).first(where: { $0.contains("is not a valid field to query") }),
            let open = line.firstIndex(of: "\""), let close = line[line.index(after: open)...].firstIndex(of: "\"")
        else { return nil }
        return String(line[line.index(after: open)..<close])
    }

    /// Names of GPUs from `nvidia-smi -L` ("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-…)").
    package static func parseList(_ output: String) -> [String] {
        output.split(whereSeparator: \.isNewline).compactMap { line in
            guard line.hasPrefix("GPU "), let colon = line.firstIndex(of: ":") else { return nil }
            let rest = line[line.index(after: colon)...]
            return String(rest.split(separator: "(").first ?? rest).trimmed(where: \.isBlank)
        }
    }

    /// "45 C", "100 %", "81559 MiB", "[N/A]", "N/A", "[Not Supported]" → 45, 100, 81559, nil…
    /// "-3" too: a GPU past its T.Limit has a negative margin.
    static func number(_ value: String?) -> Int? {
        guard let value else { return nil }
        let text = value.trimmed(where: \.isBlank)
        let negative = text.hasPrefix("-")
        let digits = text.dropFirst(negative ? 1 : 0).prefix { $0.isNumber }
        return digits.isEmpty ? nil : Int(digits).map { negative ? -$0 : $0 }
    }

    static func decimal(_ value: String?) -> Double? {
        guard let value else { return nil }
        return Double(value.trimmed(where: \.isBlank).prefix { $0.isNumber || $0 == "." })
    }

    /// clocks_event_reasons values: "Active" / "Not Active".
    static func active(_ value: String?) -> Bool? {
        switch value?.trimmed(where: \.isBlank) {
        case "Active": true
        case "Not Active": false
        default: nil
        }
    }

    /// persistence_mode: "Enabled" / "Disabled".
    static func enabled(_ value: String?) -> Bool? {
        switch value?.trimmed(where: \.isBlank) {
        case "Enabled": true
        case "Disabled": false
        default: nil
        }
    }

    static func flag(_ value: String?) -> Bool? {
        switch value?.trimmed(where: \.isBlank).lowercased() {
        case "yes": true
        case "no": false
        default: nil
        }
    }

    private static func splitCSV(_ line: String) -> [String] {
        line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmed(where: \.isBlank) }
    }
}
