import FoundationEssentials

/// Docker's `--format '{{json .}}'` output: one JSON object per line (JSON Lines).
package enum DockerJSON {
    /// Docker's own word on a daemon it cannot reach ("Cannot connect to the Docker daemon at …"):
    /// newer clients follow it with the `--format` template's failure on the missing answer,
    /// which says nothing about the cause.
    static func daemonError(_ result: InvocationResult) -> String? {
        let lines = result.stderr.split(whereSeparator: \.isNewline).map { $0.trimmed(where: \.isBlank) }
        return lines.first { !$0.isEmpty && !$0.hasPrefix("template: ") } ?? result.message
    }

    static func lines(_ output: String) throws -> [[String: JSONText]] {
        try output.split(whereSeparator: \.isNewline).map { try JSONText.decode([String: JSONText].self, from: $0, tool: "docker") }
    }

    /// One row of `docker system df`: counts as numbers and sizes in bytes (docker prints
    /// "2", "1.982MB", "1GB (50%)").
    package struct DiskUsageRow: Sendable, Equatable, Codable {
        package var type: String
        package var total: Int
        package var active: Int
        package var sizeBytes: Int64
        package var reclaimableBytes: Int64

        package var summary: String {
            "\(type) \(ByteCount.format(sizeBytes)) (\(ByteCount.format(reclaimableBytes)) reclaimable)"
        }
    }

    package static func parseSystemDF(_ output: String) throws -> [DiskUsageRow] {
        try lines(output).map { row in
            let reclaimable = row.text("Reclaimable").split(separator: " ").first.map(String.init) ?? ""
            return DiskUsageRow(
                type: row.text("Type"), total: Int(row.text("TotalCount")) ?? 0,
                active: Int(row.text("Active")) ?? 0,
                sizeBytes: DockerObjects.bytes(row.text("Size")) ?? 0,
                reclaimableBytes: DockerObjects.bytes(reclaimable) ?? 0)
        }
    }

    /// Container counts from `docker info --format '{{json .}}'`.
    package struct EngineCounts: Sendable, Equatable, Codable {
        package var running: Int
        package var paused: Int
        package var stopped: Int
        package var images: Int
        package var serverVersion: String
    }

    package static func parseInfo(_ output: String) throws -> EngineCounts {
        guard let info = try lines(output).first else { throw ParseError("docker info", "no output") }
        return EngineCounts(
            running: Int(info.int("ContainersRunning") ?? 0), paused: Int(info.int("ContainersPaused") ?? 0),
            stopped: Int(info.int("ContainersStopped") ?? 0), images: Int(info.int("Images") ?? 0),
            serverVersion: info.text("ServerVersion"))
    }
}
