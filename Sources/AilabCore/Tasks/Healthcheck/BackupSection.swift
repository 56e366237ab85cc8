import FoundationEssentials

/// The age of the newest config-backup archive.
struct BackupSection: HealthSection {
    let title = "backups"
    let folder: String
    let maximumAge: Duration

    func findings(from probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        let entries: [FolderEntry]?
        do {
            entries = try probe.files.entries(folder)
        } catch {
            findings.checks.append(.needsRoot("config backup"))
            return findings
        }
        let archives = (entries ?? []).filter { $0.isRegularFile && ArchiveName.matches($0.name) }
        guard let newest = archives.max(by: { $0.name < $1.name }) else {
            findings.add(
                "config backup", .warning, "no ailab-config archive in \(folder) yet",
                next: "sudo ailab config-backup --execute, and keep ailab-config-backup.timer enabled")
            return findings
        }
        let age = probe.run.now.timeIntervalSince(newest.modified)
        let limit = maximumAge.timeInterval
        findings.add(
            "config backup", age > limit ? .warning : .ok,
            "newest \(newest.name) in \(folder), \(HostFacts.duration(max(0, age))) old, \(ByteCount.format(newest.size))"
                + (age > limit ? "; older than \(Int(limit / 3600)) h" : ""),
            next: "see why the timer did not run: systemctl status ailab-config-backup.timer ailab-config-backup.service")
        findings.set("newestBackup", NewestBackup(name: newest.name, ageSeconds: Int(max(0, age))))
        findings.checks.append(drillCheck(probe))
        return findings
    }

    /// A drill older than this is a warning: a backup nobody restored is a hope, not a backup.
    static let drillPatience: TimeInterval = 8 * 86400

    /// The last restore drill that passed (written by config-backup, root's alone).
    private func drillCheck(_ probe: SectionContext) -> Check {
        let next = "sudo ailab config-backup --verify-restore"
        guard probe.isRoot else { return .needsRoot("restore drill") }
        let recorded: VerifiedRestore?
        do {
            recorded = try VerifiedRestore.load(probe.run.context.records)
        } catch {
            return Check(
                "restore drill", .failed, "\(error)",
                next: "check who changed ailab's state folder, remove the record, then \(next)")
        }
        guard let verified = recorded else { return Check("restore drill", .warning, "no restore drill has passed yet", next: next) }
        let age = max(0, probe.run.now.timeIntervalSince1970 - verified.time)
        let old = age > Self.drillPatience
        return Check(
            "restore drill", old ? .warning : .ok,
            "last verified restore: \(verified.archive), \(verified.members) members, \(HostFacts.duration(age)) ago"
                + (old ? "; older than 8 days" : ""),
            next: next)
    }
}

struct NewestBackup: Encodable {
    var name: String
    var ageSeconds: Int
}
