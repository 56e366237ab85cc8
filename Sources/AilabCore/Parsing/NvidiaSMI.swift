import Foundation

/// One GPU's state, from `nvidia-smi --query-gpu` CSV or from `nvidia-smi -q -x` XML.
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
    /// fields and refuse the whole query; the probe then falls back to `-q -x`.
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

    /// Parses `nvidia-smi -q -x`, whose schema changed across drivers: old ones count ECC
    /// errors under `double_bit`, newer ones under `*_uncorrectable*`.
    public static func parseXML(_ output: String) throws -> [GPUState] {
        let root = try XMLTree.parse(output, source: "nvidia-smi -q -x")
        guard root.name == "nvidia_smi_log" else {
            throw ParseError("nvidia-smi -q -x", "no nvidia_smi_log element")
        }
        let driver = root.text("driver_version") ?? ""
        return root.all("gpu").enumerated().map { index, gpu in
            GPUState(
                index: number(gpu.text("minor_number")) ?? index, name: gpu.text("product_name") ?? "", driver: driver,
                temperatureC: number(gpu.text("temperature/gpu_temp")),
                utilizationPercent: number(gpu.text("utilization/gpu_util")),
                memoryUsedMiB: number(gpu.text("fb_memory_usage/used")),
                memoryTotalMiB: number(gpu.text("fb_memory_usage/total")),
                uncorrectedECC: uncorrectedECC(gpu),
                retiredPagesPending: flag(gpu.text("retired_pages/pending_retirement"))
                    ?? flag(gpu.text("retired_pages/pending_blacklist")),
                remappedRowsPending: flag(gpu.text("remapped_rows/remapped_row_pending")),
                remappedRowsFailure: flag(gpu.text("remapped_rows/remapped_row_failure")))
        }
    }

    /// Names of GPUs from `nvidia-smi -L` ("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-…)").
    public static func parseList(_ output: String) -> [String] {
        output.split(whereSeparator: \.isNewline).compactMap { line in
            guard line.hasPrefix("GPU "), let colon = line.firstIndex(of: ":") else { return nil }
            let rest = line[line.index(after: colon)...]
            return String(rest.split(separator: "(").first ?? rest).trimmingCharacters(in: .whitespaces)
        }
    }

    private static func uncorrectedECC(_ gpu: XMLTree) -> Int? {
        guard let volatile = gpu.element("ecc_errors/volatile") else { return nil }
        if let total = volatile.text("double_bit/total") { return number(total) }
        let counts = volatile.children.filter { $0.name.contains("uncorrectable") }
            .compactMap { number($0.text.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return counts.isEmpty ? nil : counts.reduce(0, +)
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
