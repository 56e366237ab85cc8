import FoundationEssentials

/// A unit from `systemctl list-units --failed`.
package struct FailedUnit: Sendable, Equatable, Codable {
    package var unit: String
    package var description: String
}

/// A timer from `systemctl list-timers --output=json`.
package struct TimerState: Sendable, Equatable, Codable {
    package var unit: String
    package var activates: String
    /// Next and last elapse, in seconds since the epoch; nil when none.
    package var next: Date?
    package var last: Date?
}

package enum Systemctl {
    package static let failedJSONArguments = ["list-units", "--failed", "--all", "--output=json", "--no-pager"]
    package static let failedPlainArguments = ["list-units", "--failed", "--all", "--plain", "--no-legend", "--no-pager"]

    /// `systemctl list-units --failed --output=json` (systemd 246 and later).
    package static func parseFailedJSON(_ output: String) throws -> [FailedUnit] {
        try JSONText.decode([[String: JSONText]].self, from: output, tool: "systemctl list-units").compactMap { entry in
            let unit = entry.text("unit")
            return unit.isEmpty ? nil : FailedUnit(unit: unit, description: entry.text("description"))
        }
    }

    /// The plain table older systemd prints: "unit load active sub description…", one per line.
    package static func parseFailedPlain(_ output: String) -> [FailedUnit] {
        output.split(whereSeparator: \.isNewline).compactMap { line in
            // Failed units are marked with a bullet ("●", or "*" without UTF-8).
            let fields = line.trimmed { "●* \t".contains($0) }
                .split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true).map(String.init)
            guard let unit = fields.first, unit.contains(".") else { return nil }
            return FailedUnit(unit: unit, description: fields.count == 5 ? fields[4] : "")
        }
    }

    /// `systemctl list-timers --all --output=json`: next/last in microseconds since the epoch.
    package static func parseTimers(_ output: String) throws -> [TimerState] {
        try JSONText.decode([[String: JSONText]].self, from: output, tool: "systemctl list-timers").compactMap { entry in
            let unit = entry.text("unit")
            guard !unit.isEmpty else { return nil }
            func date(_ key: String) -> Date? {
                guard let micros = entry.int(key), micros > 0 else { return nil }
                return Date(timeIntervalSince1970: Double(micros) / 1_000_000)
            }
            return TimerState(unit: unit, activates: entry.text("activates"), next: date("next"), last: date("last"))
        }
    }

    /// `systemctl show -p Id -p Result … unit…`: blocks of KEY=value separated by blank lines.
    package static func parseShow(_ output: String) -> [[String: String]] {
        output.components(separatedBy: "\n\n").compactMap { block in
            var properties: [String: String] = [:]
            for line in block.split(whereSeparator: \.isNewline) {
                guard let equals = line.firstIndex(of: "=") else { continue }
                properties[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            return properties.isEmpty ? nil : properties
        }
    }
}
