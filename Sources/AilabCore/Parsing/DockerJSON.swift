import FoundationEssentials

/// Docker's `--format '{{json .}}'` output: one JSON object per line (JSON Lines).
public enum DockerJSON {
    static func lines(_ output: String) throws -> [[String: JSONText]] {
        try output.split(whereSeparator: \.isNewline).map { try JSONText.decode([String: JSONText].self, from: $0, tool: "docker") }
    }

    /// One row of `docker system df`: counts as numbers and sizes in bytes (docker prints
    /// "2", "1.982MB", "1GB (50%)").
    public struct DiskUsageRow: Sendable, Equatable, Codable {
        public var type: String
        public var total: Int
        public var active: Int
        public var sizeBytes: Int64
        public var reclaimableBytes: Int64

        public var summary: String {
            "\(type) \(ByteCount.format(sizeBytes)) (\(ByteCount.format(reclaimableBytes)) reclaimable)"
        }
    }

    public static func parseSystemDF(_ output: String) throws -> [DiskUsageRow] {
        try lines(output).map { row in
            let reclaimable = row.text("Reclaimable").split(separator: " ").first.map(String.init) ?? ""
            return DiskUsageRow(type: row.text("Type"), total: Int(row.text("TotalCount")) ?? 0,
                                active: Int(row.text("Active")) ?? 0,
                                sizeBytes: DockerObjects.bytes(row.text("Size")) ?? 0,
                                reclaimableBytes: DockerObjects.bytes(reclaimable) ?? 0)
        }
    }

    /// Container counts from `docker info --format '{{json .}}'`.
    public struct EngineCounts: Sendable, Equatable, Codable {
        public var running: Int
        public var paused: Int
        public var stopped: Int
        public var images: Int
        public var serverVersion: String
    }

    public static func parseInfo(_ output: String) throws -> EngineCounts {
        guard let info = try lines(output).first else { throw ParseError("docker info", "no output") }
        return EngineCounts(
            running: Int(info.int("ContainersRunning") ?? 0), paused: Int(info.int("ContainersPaused") ?? 0),
            stopped: Int(info.int("ContainersStopped") ?? 0), images: Int(info.int("Images") ?? 0),
            serverVersion: info.text("ServerVersion"))
    }
}
