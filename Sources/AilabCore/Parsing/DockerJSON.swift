import Foundation

/// Docker's `--format '{{json .}}'` output: one JSON object per line (JSON Lines).
public enum DockerJSON {
    public static func lines(_ output: String) throws -> [[String: Any]] {
        try output.split(whereSeparator: \.isNewline).map { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw ParseError("docker", "not a JSON object: \(line.prefix(80))")
            }
            return object
        }
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
            let reclaimable = JSONField.string(row["Reclaimable"]).split(separator: " ").first.map(String.init) ?? ""
            return DiskUsageRow(type: JSONField.string(row["Type"]), total: Int(JSONField.string(row["TotalCount"])) ?? 0,
                                active: Int(JSONField.string(row["Active"])) ?? 0,
                                sizeBytes: DockerObjects.bytes(JSONField.string(row["Size"])) ?? 0,
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
            running: Int(JSONField.int(info["ContainersRunning"]) ?? 0), paused: Int(JSONField.int(info["ContainersPaused"]) ?? 0),
            stopped: Int(JSONField.int(info["ContainersStopped"]) ?? 0), images: Int(JSONField.int(info["Images"]) ?? 0),
            serverVersion: JSONField.string(info["ServerVersion"]))
    }
}
