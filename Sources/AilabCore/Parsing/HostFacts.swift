import FoundationEssentials

/// Facts read from /etc/os-release and /proc.
package enum HostFacts {
    /// PRETTY_NAME from os-release, unquoted.
    package static func prettyName(osRelease: String) -> String? {
        osReleaseField("PRETTY_NAME", osRelease)
    }

    /// One KEY=value of os-release, unquoted; nil when absent or empty.
    package static func osReleaseField(_ key: String, _ osRelease: String) -> String? {
        for line in osRelease.split(whereSeparator: \.isNewline) where line.hasPrefix(key + "=") {
            let value = String(line.dropFirst(key.count + 1)).trimmed { "\"'".contains($0) }
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// /proc/meminfo values in bytes (the file counts kB).
    package static func memory(meminfo: String) -> (total: Int64, available: Int64)? {
        var values: [String: Int64] = [:]
        for line in meminfo.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: { $0 == ":" || $0 == " " })
            if fields.count >= 2, let value = Int64(fields[1]) { values[String(fields[0])] = value * 1024 }
        }
        guard let total = values["MemTotal"], let available = values["MemAvailable"] else { return nil }
        return (total, available)
    }

    /// The 1, 5 and 15 minute load averages from /proc/loadavg.
    package static func load(loadavg: String) -> [Double]? {
        let values = loadavg.split(separator: " ").prefix(3).compactMap { Double($0) }
        return values.count == 3 ? values : nil
    }

    /// The CPUs the kernel has online, from /sys/devices/system/cpu/online ("0-3,5,7-8"): the whole
    /// host's, which the load average counts, not the ones this process may run on.
    package static func cpuCount(online: String) -> Int? {
        var count = 0
        for range in online.trimmed().split(separator: ",") {
            let bounds = range.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard bounds.count <= 2, let low = bounds.first ?? nil, let high = bounds.last ?? nil, low <= high else { return nil }
            count += high - low + 1
        }
        return count > 0 ? count : nil
    }

    /// Seconds since boot from /proc/uptime.
    package static func uptime(_ text: String) -> Double? {
        text.split(separator: " ").first.flatMap { Double($0) }
    }

    package static func duration(_ seconds: Double) -> String {
        let total = Int(seconds)
        let days = total / 86400, hours = total % 86400 / 3600, minutes = total % 3600 / 60
        if total < 60 { return "\(total)s" }
        return days > 0 ? "\(days)d \(hours)h" : (hours > 0 ? "\(hours)h \(minutes)m" : "\(minutes)m")
    }
}

/// A module line of `dkms status`.
package struct DKMSModule: Sendable, Equatable, Codable {
    package var module: String
    package var version: String
    package var kernel: String?
    package var state: String

    /// "nvidia/550.90.07 6.8.0-45-generic installed"
    package var summary: String { "\(module)/\(version) \(kernel ?? "-") \(state)" }
}

package enum DKMSStatus {
    /// The one way ailab asks: kernel-cleanup's review list, the upgrade's next-boot check, healthcheck.
    package static let invocation = Invocation("dkms", ["status"], timeout: .seconds(60))

    /// Parses both formats: "nvidia/535.104.05, 6.5.0-14-generic, x86_64: installed" (dkms 3)
    /// and "nvidia, 470.82.00, 5.4.0-91-generic, x86_64: installed" (dkms 2).
    package static func parse(_ output: String) -> [DKMSModule] {
        output.split(whereSeparator: \.isNewline).compactMap { line in
            guard let colon = line.lastIndex(of: ":") else { return nil }
            let state = line[line.index(after: colon)...].trimmed(where: \.isBlank)
            var fields = line[..<colon].split(separator: ",").map { $0.trimmed(where: \.isBlank) }
            guard let first = fields.first else { return nil }
            if first.contains("/") {
                let parts = first.split(separator: "/", maxSplits: 1).map(String.init)
                fields.replaceSubrange(0...0, with: parts)
            }
            guard fields.count >= 2 else { return nil }
            return DKMSModule(
                module: fields[0], version: fields[1], kernel: fields.count >= 3 ? fields[2] : nil,
                state: String(state.split(separator: " ").first ?? ""))
        }
    }
}
