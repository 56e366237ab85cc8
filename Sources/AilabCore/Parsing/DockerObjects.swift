import Foundation

/// A container from `docker ps -a --no-trunc --format '{{json .}}'`.
public struct DockerContainer: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var image: String
    public var state: String
    /// ISO 8601 ("2026-11-22T06:00:00+00:00"), from docker's "2026-11-22 06:00:00 +0000 UTC".
    public var created: String
    public var labels: [String: String]
    public var networks: [String]
}

/// An image from `docker images --no-trunc --format '{{json .}}'`.
public struct DockerImage: Sendable, Equatable, Codable {
    public var id: String
    public var reference: String
    public var sizeBytes: Int64
}

/// A network from `docker network ls --no-trunc --format '{{json .}}'`.
public struct DockerNetwork: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var driver: String
    public var labels: [String: String]
}

/// A build cache record from `docker system df -v --format '{{json .}}'`.
public struct DockerBuildCache: Sendable, Equatable, Codable {
    public var id: String
    public var sizeBytes: Int64
    public var lastUsed: String
    public var inUse: Bool
}

public enum DockerObjects {
    public static func containers(_ output: String) throws -> [DockerContainer] {
        try DockerJSON.lines(output).map { row in
            DockerContainer(
                id: JSONField.string(row["ID"]), name: JSONField.string(row["Names"]), image: JSONField.string(row["Image"]),
                state: JSONField.string(row["State"]), created: iso8601(JSONField.string(row["CreatedAt"])),
                labels: labels(JSONField.string(row["Labels"])),
                networks: JSONField.string(row["Networks"]).split(separator: ",").map(String.init))
        }
    }

    public static func images(_ output: String) throws -> [DockerImage] {
        try DockerJSON.lines(output).map { row in
            let repository = JSONField.string(row["Repository"]), tag = JSONField.string(row["Tag"])
            return DockerImage(id: JSONField.string(row["ID"]),
                               reference: repository == "<none>" ? "<none>" : "\(repository):\(tag)",
                               sizeBytes: bytes(JSONField.string(row["Size"])) ?? 0)
        }
    }

    public static func networks(_ output: String) throws -> [DockerNetwork] {
        try DockerJSON.lines(output).map { row in
            DockerNetwork(id: JSONField.string(row["ID"]), name: JSONField.string(row["Name"]),
                          driver: JSONField.string(row["Driver"]), labels: labels(JSONField.string(row["Labels"])))
        }
    }

    public static func buildCache(_ output: String) throws -> [DockerBuildCache] {
        guard let object = try DockerJSON.lines(output).first else { return [] }
        return (object["BuildCache"] as? [[String: Any]] ?? []).map { row in
            DockerBuildCache(id: JSONField.string(row["ID"]), sizeBytes: bytes(JSONField.string(row["Size"])) ?? 0,
                             lastUsed: JSONField.string(row["LastUsedSince"]),
                             inUse: row["InUse"] as? Bool ?? (JSONField.string(row["InUse"]) == "true"))
        }
    }

    /// "2026-11-22 06:00:00 +0000 UTC" → "2026-11-22T06:00:00+00:00"; other text as it is.
    static func iso8601(_ text: String) -> String {
        let parts = text.split(separator: " ")
        guard parts.count >= 3, parts[0].count == 10, parts[1].count == 8, parts[2].count == 5 else { return text }
        let zone = parts[2]
        return "\(parts[0])T\(parts[1])\(zone.prefix(3)):\(zone.suffix(2))"
    }

    /// "a=1,ailab.keep=" → ["a": "1", "ailab.keep": ""].
    static func labels(_ text: String) -> [String: String] {
        var labels: [String: String] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            labels[String(parts[0])] = parts.count == 2 ? String(parts[1]) : ""
        }
        return labels
    }

    /// Docker's own human durations ("2 weeks", "About an hour", "Less than a second" — with or
    /// without " ago"), in seconds; nil when the text is not one of them.
    public static func seconds(humanDuration text: String) -> Double? {
        let words = text.replacingOccurrences(of: " ago", with: "").lowercased().split(separator: " ").map(String.init)
        let units: [String: Double] = ["second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400,
                                       "month": 30 * 86400, "year": 365 * 86400]
        guard let last = words.last, let unit = units[last.hasSuffix("s") ? String(last.dropLast()) : last] else { return nil }
        if words.first == "less" { return 0 }
        let count = words.count >= 2 ? (Double(words[words.count - 2]) ?? 1) : 1
        return count * unit
    }

    /// Sums docker's "Total reclaimed space: 1.982MB" lines, in bytes (docker's sizes are decimal).
    public static func reclaimedBytes(_ output: String) -> Int64 {
        output.split(whereSeparator: \.isNewline).compactMap { line -> Int64? in
            guard let range = line.range(of: "Total reclaimed space:") else { return nil }
            return bytes(line[range.upperBound...].trimmingCharacters(in: .whitespaces))
        }.reduce(0, +)
    }

    public static func bytes(_ size: String) -> Int64? {
        let number = size.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(number) else { return nil }
        let unit = size.dropFirst(number.count).trimmingCharacters(in: .whitespaces).lowercased()
        let scale: [String: Double] = ["b": 1, "": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15]
        guard let multiplier = scale[unit] else { return nil }
        return Int64(value * multiplier)
    }
}
