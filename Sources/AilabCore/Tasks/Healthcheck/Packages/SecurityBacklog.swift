import FoundationEssentials

/// When each pending security upgrade (name=version) was first seen, so that a fix left waiting
/// for a week shows. apt records no such date; healthcheck keeps it in
/// `$AILAB_STATE_DIR/security-pending.json` (default /var/lib/ailab), root's alone.
struct SecurityBacklog: Sendable {
    static let fileName = "security-pending.json"
    /// Pending longer than this is a warning.
    static let patience: TimeInterval = 7 * 86400

    /// Pending upgrade → first seen, seconds since the epoch.
    var firstSeen: [String: Double]

    static func path(_ environment: [String: String]) -> String {
        TaskContext.stateDirectory(environment) + "/" + fileName
    }

    /// The saved backlog, updated to what is pending now: new upgrades start today, gone ones go.
    static func update(pending: [PackageChange], now: Date, saved: String?) -> SecurityBacklog {
        let known = saved.flatMap { try? JSONDecoder().decode([String: Double].self, from: Data($0.utf8)) } ?? [:]
        var firstSeen: [String: Double] = [:]
        for change in pending {
            let key = "\(change.name)=\(change.to)"
            firstSeen[key] = known[key] ?? now.timeIntervalSince1970
        }
        return SecurityBacklog(firstSeen: firstSeen)
    }

    /// The oldest pending upgrade's age.
    func oldest(now: Date) -> TimeInterval? {
        firstSeen.values.min().map { now.timeIntervalSince1970 - $0 }
    }

    var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(firstSeen)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }
}
