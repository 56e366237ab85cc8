import FoundationEssentials

/// A container from `docker ps -a --no-trunc --format '{{json .}}'`.
package struct DockerContainer: Sendable, Equatable, Codable {
    package var id: String
    package var name: String
    package var image: String
    package var state: String
    /// ISO 8601 ("2026-11-22T06:00:00+00:00"), from docker's "2026-11-22 06:00:00 +0000 UTC".
    package var created: String
    package var labels: [String: String]
    package var networks: [String]
}

/// An image from `docker images --no-trunc --format '{{json .}}'`.
package struct DockerImage: Sendable, Equatable, Codable {
    package var id: String
    package var reference: String
    package var sizeBytes: Int64
    /// ISO 8601, as for containers.
    package var created: String = ""
    /// The bytes of its layers that no other image shares (`docker system df -v`); nil when unknown.
    package var uniqueBytes: Int64?
    /// No repository and no tag: what a rebuild left behind.
    package var dangling: Bool { reference == "<none>" }
}

/// A network from `docker network ls --no-trunc --format '{{json .}}'`.
package struct DockerNetwork: Sendable, Equatable, Codable {
    package var id: String
    package var name: String
    package var driver: String
    package var labels: [String: String]
    package var created: String = ""
}

/// A build cache record from `docker system df -v --format '{{json .}}'`.
package struct DockerBuildCache: Sendable, Equatable, Codable {
    package var id: String
    package var sizeBytes: Int64
    package var lastUsed: String
    package var inUse: Bool
}

package enum DockerObjects {
    package static func containers(_ output: String) throws -> [DockerContainer] {
        try DockerJSON.lines(output).map { row in
            DockerContainer(
                id: row.text("ID"), name: row.text("Names"), image: row.text("Image"),
                state: row.text("State"), created: iso8601(row.text("CreatedAt")),
                labels: labels(row.text("Labels")),
                networks: row.text("Networks").split(separator: ",").map(String.init))
        }
    }

    package static func images(_ output: String) throws -> [DockerImage] {
        try DockerJSON.lines(output).map { row in
            let repository = row.text("Repository"), tag = row.text("Tag")
            return DockerImage(
                id: row.text("ID"),
                reference: repository == "<none>" ? "<none>" : "\(repository):\(tag)",
                sizeBytes: bytes(row.text("Size")) ?? 0, created: iso8601(row.text("CreatedAt")))
        }
    }

    package static func networks(_ output: String) throws -> [DockerNetwork] {
        try DockerJSON.lines(output).map { row in
            DockerNetwork(
                id: row.text("ID"), name: row.text("Name"),
                driver: row.text("Driver"), labels: labels(row.text("Labels")), created: iso8601(row.text("CreatedAt")))
        }
    }

    /// `docker system df -v --format '{{json .}}'`: one object holding every kind's rows.
    private struct Verbose: Decodable {
        let Images: [[String: JSONText]]?
        let BuildCache: [[String: JSONText]]?
    }

    private static func verbose(_ output: String) throws -> Verbose? {
        guard let line = output.split(whereSeparator: \.isNewline).first else { return nil }
        return try JSONText.decode(Verbose.self, from: line, tool: "docker")
    }

    /// Each image's `UniqueSize` by ID: the bytes of layers no other image shares, which are all
    /// that removing it alone frees (its `Size` counts the shared layers too).
    package static func uniqueSizes(_ output: String) throws -> [String: Int64] {
        var sizes: [String: Int64] = [:]
        for row in try verbose(output)?.Images ?? [] {
            if let bytes = bytes(row.text("UniqueSize")) { sizes[row.text("ID")] = bytes }
        }
        return sizes
    }

    package static func buildCache(_ output: String) throws -> [DockerBuildCache] {
        (try verbose(output)?.BuildCache ?? []).map { row in
            DockerBuildCache(
                id: row.text("ID"), sizeBytes: bytes(row.text("Size")) ?? 0,
                lastUsed: row.text("LastUsedSince"),
                inUse: row["InUse"]?.bool ?? false)
        }
    }

    /// "2026-11-22 06:00:00 +0000 UTC" → "2026-11-22T06:00:00+00:00" (fractions of a second
    /// dropped); other text as it is.
    static func iso8601(_ text: String) -> String {
        let parts = text.split(separator: " ")
        guard parts.count >= 3, parts[0].count == 10, parts[1].count >= 8, parts[2].count == 5 else { return text }
        let zone = parts[2]
        return "\(parts[0])T\(parts[1].prefix(8))\(zone.prefix(3)):\(zone.suffix(2))"
    }

    /// The instant an `iso8601` text names.
    package static func date(iso text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
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
    package static func seconds(humanDuration text: String) -> Double? {
        let words = text.replacing(" ago", with: "").lowercased().split(separator: " ").map(String.init)
        let units: [String: Double] = [
            "second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400,
            "month": 30 * 86400, "year": 365 * 86400,
        ]
        guard let last = words.last, let unit = units[last.hasSuffix("s") ? String(last.dropLast()) : last] else { return nil }
        if words.first == "less" { return 0 }
        let count = words.count >= 2 ? (Double(words[words.count - 2]) ?? 1) : 1
        return count * unit
    }

    /// Sums docker's "Total reclaimed space: 1.982MB" lines, in bytes (docker's sizes are decimal).
    package static func reclaimedBytes(_ output: String) -> Int64 {
        output.split(whereSeparator: \.isNewline).compactMap { line -> Int64? in
            guard let range = line.firstRange(of: "Total reclaimed space:") else { return nil }
            return bytes(line[range.upperBound...].trimmed(where: \.isBlank))
        }.reduce(0, +)
    }

    package static func bytes(_ size: String) -> Int64? {
        let number = size.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(number) else { return nil }
        let unit = size.dropFirst(number.count).trimmed(where: \.isBlank).lowercased()
        let scale: [String: Double] = ["b": 1, "": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15]
        guard let multiplier = scale[unit] else { return nil }
        return Int64(value * multiplier)
    }
}
