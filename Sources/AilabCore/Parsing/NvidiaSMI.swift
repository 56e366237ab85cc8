import Foundation

/// One GPU's state, from `nvidia-smi --query-gpu` CSV.
public struct GPUState: Sendable, Equatable, Codable {
    public var index: Int
    public var name: String
    public var driver: String
    public var temperatureC: Int?
    public var utilizationPercent: Int?
    public var memoryUsedMiB: Int?
    public var memoryTotalMiB: Int?
    /// Uncorrected ECC errors since the driver loaded; nil where the GPU has no ECC.
    public var uncorrectedECC: Int?
    public var retiredPagesPending: Bool?
    public var remappedRowsPending: Bool?
    public var remappedRowsFailure: Bool?

    public var metrics: [MetricSample] {
        let labels = ["gpu": String(index), "name": name]
        let figures: [(String, String, Double?)] = [
            ("ailab_gpu_temperature_celsius", "GPU core temperature.", temperatureC.map(Double.init)),
            ("ailab_gpu_utilization_ratio", "Share of time the GPU was busy.", utilizationPercent.map { Double($0) / 100 }),
            ("ailab_gpu_memory_used_bytes", "GPU memory in use.", memoryUsedMiB.map { Double($0) * 1_048_576 }),
            ("ailab_gpu_memory_total_bytes", "GPU memory in all.", memoryTotalMiB.map { Double($0) * 1_048_576 }),
            ("ailab_gpu_ecc_uncorrected_errors", "Uncorrected ECC errors since the driver loaded.", uncorrectedECC.map(Double.init)),
        ]
        return figures.compactMap { name, help, value in value.map { MetricSample(name, help, labels: labels, value: $0) } }
    }

    public var verdict: (Status, String) {
        var failures: [String] = []
        var warnings: [String] = []
        if let ecc = uncorrectedECC, ecc > 0 { failures.append("\(ecc) uncorrected ECC errors") }
        if remappedRowsFailure == true { failures.append("row remapping failed") }
        if retiredPagesPending == true { warnings.append("page retirement pending (needs a GPU reset)") }
        if remappedRowsPending == true { warnings.append("row remapping pending (needs a GPU reset)") }
        if let temperature = temperatureC, temperature >= 85 { warnings.append("running hot") }
        var facts = ["driver \(driver)"]
        if let temperatureC { facts.append("\(temperatureC) °C") }
        if let utilizationPercent { facts.append("\(utilizationPercent)% busy") }
        if let used = memoryUsedMiB, let total = memoryTotalMiB { facts.append("memory \(used)/\(total) MiB") }
        facts.append(uncorrectedECC.map { "ECC uncorrected \($0)" } ?? "ECC n/a")
        let detail = ([name] + failures + warnings + facts).joined(separator: "; ")
        if !failures.isEmpty { return (.failed, detail) }
        return (warnings.isEmpty ? .ok : .warning, detail)
    }
}

public enum NvidiaSMI {
    /// The fields asked of `--query-gpu`. Drivers before R450 do not know the remapped-row
    /// fields and refuse the whole query; the probe then asks again without them.
    public static let queryFields = [
        "index", "name", "driver_version", "temperature.gpu", "utilization.gpu", "memory.used", "memory.total",
        "ecc.errors.uncorrected.volatile.total", "retired_pages.pending", "remapped_rows.pending",
        "remapped_rows.failure",
    ]

    /// Parses `--query-gpu=... --format=csv[,nounits]` output with its header line. Columns
    /// are found by name, so any superset of `queryFields` in any order parses.
    public static func parseCSV(_ output: String) throws -> [GPUState] {
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
                temperatureC: number(row["temperature.gpu"]), utilizationPercent: number(row["utilization.gpu"]),
                memoryUsedMiB: number(row["memory.used"]), memoryTotalMiB: number(row["memory.total"]),
                uncorrectedECC: number(row["ecc.errors.uncorrected.volatile.total"]),
                retiredPagesPending: flag(row["retired_pages.pending"]),
                remappedRowsPending: flag(row["remapped_rows.pending"]),
                remappedRowsFailure: flag(row["remapped_rows.failure"]))
        }
    }

    /// The field named by `Field "remapped_rows.pending" is not a valid field to query.`
    public static func refusedField(_ output: String) -> String? {
        guard let line = output.split(whereSeparator: \.isNewline).first(where: { $0.contains("is not a valid field to query") }),
              let open = line.firstIndex(of: "\""), let close = line[line.index(after: open)...].firstIndex(of: "\"") else { return nil }
        return String(line[line.index(after: open)..<close])
    }

    /// Names of GPUs from `nvidia-smi -L` ("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-…)").
    public static func parseList(_ output: String) -> [String] {
        output.split(whereSeparator: \.isNewline).compactMap { line in
            guard line.hasPrefix("GPU "), let colon = line.firstIndex(of: ":") else { return nil }
            let rest = line[line.index(after: colon)...]
            return String(rest.split(separator: "(").first ?? rest).trimmingCharacters(in: .whitespaces)
        }
    }

    /// "45 C", "100 %", "81559 MiB", "[N/A]", "N/A", "[Not Supported]" → 45, 100, 81559, nil…
    static func number(_ value: String?) -> Int? {
        guard let value else { return nil }
        let digits = value.trimmingCharacters(in: .whitespaces).prefix { $0.isNumber }
        return digits.isEmpty ? nil : Int(digits)
    }

    static func flag(_ value: String?) -> Bool? {
        switch value?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "yes": true
        case "no": false
        default: nil
        }
    }

    private static func splitCSV(_ line: String) -> [String] {
        line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
