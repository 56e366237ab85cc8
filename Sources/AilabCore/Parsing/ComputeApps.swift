/// One compute process on a GPU, from `nvidia-smi --query-compute-apps`.
package struct ComputeApp: Sendable, Equatable {
    /// "00000000:3B:00.0"
    package var gpuBusID: String?
    package var pid: Int
    package var name: String
    package var memoryMiB: Int?
}

package enum ComputeApps {
    /// `used_memory` is the name every driver knows; nvidia-smi heads its column `used_gpu_memory`.
    package static let arguments = ["--query-compute-apps=gpu_bus_id,pid,used_memory,process_name", "--format=csv,nounits"]

    /// Parses `--query-compute-apps=... --format=csv[,nounits]` with its header. Columns are found
    /// by name; a process name with commas in it keeps them.
    package static func parse(_ output: String) throws -> [ComputeApp] {
        let lines = output.split(whereSeparator: \.isNewline).map { $0.trimmed(where: \.isBlank) }.filter { !$0.isEmpty }
        guard let header = lines.first else { return [] }
        let names = fields(header).map { $0.split(separator: " [").first.map(String.init) ?? $0 }
        guard let pidColumn = names.firstIndex(of: "pid") else {
            throw ParseError("nvidia-smi", "no pid column in header: \(header.prefix(80))")
        }
        let nameColumn = names.firstIndex(of: "process_name")
        return try lines.dropFirst().filter { $0 != "No running processes found" }.map { line in
            var values = fields(line)
            if values.count > names.count, let nameColumn {
                let extra = values.count - names.count
                values[nameColumn] = values[nameColumn...(nameColumn + extra)].joined(separator: ",")
                values.removeSubrange((nameColumn + 1)...(nameColumn + extra))
            }
            guard values.count == names.count, let pid = Int(values[pidColumn]) else {
                throw ParseError("nvidia-smi", "not a compute process: \(line.prefix(80))")
            }
            let row = Dictionary(zip(names, values), uniquingKeysWith: { first, _ in first })
            return ComputeApp(
                gpuBusID: row["gpu_bus_id"].flatMap { $0.isEmpty || $0.hasPrefix("[") ? nil : $0 }, pid: pid,
                name: row["process_name"] ?? "", memoryMiB: NvidiaSMI.number(row["used_gpu_memory"] ?? row["used_memory"]))
        }
    }

    private static func fields(_ line: String) -> [String] {
        line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmed(where: \.isBlank) }
    }
}
