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
    /// Its compute processes, with their users and owners; nil when nvidia-smi could not list them.
    package var processes: [GPUProcess]?
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
