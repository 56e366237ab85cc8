import FoundationEssentials

/// Which old archives retention deletes: only regular files named exactly like an archive,
/// older than the retention period, and never one of the newest `keepMin` (the new one counted).
package enum Retention {
    package static func expired(
        _ entries: [FolderEntry], now: Date, retentionDays: Int, keepMin: Int, addingNewArchive: Bool
    ) -> [FolderEntry] {
        let archives = entries.filter { $0.isRegularFile && ArchiveName.matches($0.name) }
            .sorted { ($0.modified, $0.name) > ($1.modified, $1.name) }
        let keptByCount = max(0, keepMin - (addingNewArchive ? 1 : 0))
        let cutoff = now.addingTimeInterval(-Double(retentionDays) * 86400)
        return archives.dropFirst(keptByCount).filter { $0.modified < cutoff }
    }
}
