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

    /// One row of `docker system df`: type, counts and sizes as docker prints them.
    public struct DiskUsageRow: Sendable, Equatable, Codable {
        public var type: String
        public var total: String
        public var active: String
        public var size: String
        public var reclaimable: String
    }

    public static func parseSystemDF(_ output: String) throws -> [DiskUsageRow] {
        try lines(output).map { row in
            DiskUsageRow(type: JSONField.string(row["Type"]), total: JSONField.string(row["TotalCount"]), active: JSONField.string(row["Active"]),
                         size: JSONField.string(row["Size"]), reclaimable: JSONField.string(row["Reclaimable"]))
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
