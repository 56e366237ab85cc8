import Foundation

/// The age of the newest config-backup archive.
struct BackupSection: HealthSection {
    let title = "backups"
    static let maximumAge: TimeInterval = 48 * 3600
    let folder: String

    func probe(_ probe: HealthProbe) async throws -> Findings {
        var report = Findings()
        let entries: [FolderEntry]?
        do {
            entries = try FolderEntry.list(probe.files.path(folder))
        } catch {
            report.checks.append(.needsRoot("config backup"))
            return report
        }
        let archives = (entries ?? []).filter { $0.isRegularFile && ArchiveName.matches($0.name) }
        guard let newest = archives.max(by: { $0.name < $1.name }) else {
            report.add("config backup", .warning, "no ailab-config archive in \(folder) yet (run ailab config-backup)")
            return report
        }
        let age = probe.run.now.timeIntervalSince(newest.modified)
        report.add("config backup", age > Self.maximumAge ? .warning : .ok,
                   "newest \(newest.name), \(HostFacts.duration(max(0, age))) old, \(ByteCount.format(newest.size))"
                   + (age > Self.maximumAge ? "; older than 48 h" : ""))
        report.set("newestBackup", ["name": newest.name, "ageSeconds": String(Int(age))])
        return report
    }
}
