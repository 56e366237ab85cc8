import FoundationEssentials

/// Archive names are exactly `ailab-config-YYYYMMDD-HHMMSS.tar.gz`; retention, the newest archive
/// and healthcheck's backup checks touch nothing else. What a restore replaces is archived as
/// `ailab-prerestore-…` beside them: kept for its undo, never taken for the newest backup.
package enum ArchiveName {
    package static let defaultFolder = "/srv/backups/ailab-config"
    static let prefix = "ailab-config-"
    static let preRestorePrefix = "ailab-prerestore-"
    static let suffix = ".tar.gz"

    package static func make(at date: Date, prefix: String = prefix) -> String {
        prefix + Timestamp.format(date, "%Y%m%d-%H%M%S") + suffix
    }

    /// The name for `date`, a second later for each name the folder already holds.
    package static func unused(in folder: String, at date: Date, prefix: String = prefix) -> String {
        var name = make(at: date, prefix: prefix)
        for second in 1..<3600 where HostFiles(root: folder).exists("/" + name) {
            name = make(at: date.addingTimeInterval(Double(second)), prefix: prefix)
        }
        return name
    }

    package static func matches(_ name: String) -> Bool {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return false }
        let stamp = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard stamp.count == 15 else { return false }
        return stamp.enumerated().allSatisfy { index, character in
            index == 8 ? character == "-" : character.isASCII && character.isNumber
        }
    }
}
