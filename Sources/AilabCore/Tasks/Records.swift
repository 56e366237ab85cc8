#if canImport(Glibc)
    import Glibc
#endif

/// One of ailab's own records, kept between runs.
package enum Record: Sendable, Hashable, CustomStringConvertible {
    /// The security fixes healthcheck saw pending, with when each was first seen.
    case securityBacklog
    /// The last restore drill that passed.
    case restoreDrill
    /// A rollback point's manifest, by the point's id.
    case rollbackManifest(String)
    /// The reboot ailab scheduled: when, why and by whom.
    case scheduledReboot

    /// Its name in the history store's `records` table.
    package var key: String {
        switch self {
        case .securityBacklog: "security-backlog"
        case .restoreDrill: "restore-drill"
        case .rollbackManifest(let id): "rollback/" + id
        case .scheduledReboot: "scheduled-reboot"
        }
    }

    package var description: String {
        switch self {
        case .securityBacklog: "the security backlog"
        case .restoreDrill: "the restore drill"
        case .rollbackManifest(let id): "rollback point \(id)"
        case .scheduledReboot: "the scheduled reboot"
        }
    }
}

/// ailab's own records, the one way a task reads or keeps them: in the history store, with the
/// files of the release before behind it. Tests hold a fake that refuses what they did not declare.
package protocol Records: Sendable {
    /// The record's text; nil when none was kept. A record that cannot be trusted throws.
    func read(_ record: Record) throws -> String?
    /// Replaces the record all at once.
    func write(_ record: Record, _ text: String) throws
}

/// The records in the history store's `records` table. The files of the release before are read
/// where the store has none, and written where the store fails, so that no record is lost. A
/// rollback point's manifest is also written beside its packages: the point stays whole on disk.
package struct StoreRecords: Records {
    package let store: HistoryStore
    package let files: StateFolderRecords

    package init(folder: String) {
        store = HistoryStore(folder: folder)
        files = StateFolderRecords(folder: folder)
    }

    package func read(_ record: Record) throws -> String? {
        if let text = try? store.record(record.key) { return text }
        return try files.read(record)
    }

    package func write(_ record: Record, _ text: String) throws {
        if case .rollbackManifest = record {
            try files.write(record, text)
            try? store.keepRecord(record.key, text)
            return
        }
        do {
            try store.keepRecord(record.key, text)
        } catch {
            try files.write(record, text)
        }
    }
}

/// The records as files under the state folder (`$AILAB_STATE_DIR`, default /var/lib/ailab),
/// root's alone: read only when TrustedFile trusts them, written atomically through SafeFolder,
/// the folder made 0700 when missing.
package struct StateFolderRecords: Records {
    package let folder: String

    package init(folder: String) {
        self.folder = folder
    }

    package func path(_ record: Record) -> String {
        switch record {
        case .securityBacklog: folder + "/security-pending.json"
        case .restoreDrill: folder + "/restore-verified.json"
        case .rollbackManifest(let id): RollbackPoint.folder(in: folder) + "/" + id + "/manifest.json"
        case .scheduledReboot: folder + "/scheduled-reboot.json"
        }
    }

    package func read(_ record: Record) throws -> String? {
        try TrustedFile.record(path(record)).map { String(decoding: $0, as: UTF8.self) }
    }

    package func write(_ record: Record, _ text: String) throws {
        // A passed drill is worth the folder; the other records go where it already is.
        if record == .restoreDrill { close(try SafeFolder.open(folder, creating: 0o700)) }
        try AtomicFile.write(text, to: path(record), mode: 0o600)
    }
}
