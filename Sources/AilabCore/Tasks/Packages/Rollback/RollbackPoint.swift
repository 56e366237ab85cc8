import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// What `upgrade --execute` records before dpkg changes anything, in
/// `$AILAB_STATE_DIR/rollback/<id>/` (default /var/lib/ailab/rollback): each package that will
/// change, its auto/manual mark and hold, the old packages themselves in `debs/`, and an archive
/// of /etc taken then.
package struct RollbackPoint: Sendable, Codable, Equatable {
    package struct Package: Sendable, Codable, Equatable {
        package var name: String
        package var architecture: String
        /// nil: not installed before the upgrade (the rollback removes it).
        package var old: String?
        /// nil: removed by the upgrade.
        package var new: String?
        package var auto: Bool
        package var held: Bool
        /// The old version's .deb in `debs/`, once secured; nil for a new package or one that could not be secured.
        package var deb: String?
        /// Where the old version comes from: apt's cache, the archive, dpkg-repack; nil when nowhere.
        package var source: String?

        package var label: String { "\(name):\(architecture)" }
    }

    package var id: String
    /// Seconds since the epoch.
    package var time: Double
    package var packages: [Package]
    /// The /etc archive in the point's folder.
    package var etcArchive: String?
    /// Every old version secured and /etc archived.
    package var complete: Bool

    static let manifestName = "manifest.json"

    package static func folder(_ environment: [String: String]) -> String {
        TaskContext.stateDirectory(environment) + "/rollback"
    }

    var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// The points in `folder`, oldest first, each with its size in bytes; an unreadable one is skipped.
    package static func all(in folder: String) -> [(point: RollbackPoint, bytes: Int64)] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        return names.compactMap { name in
            guard let bytes = FileManager.default.contents(atPath: folder + "/" + name + "/" + manifestName),
                let point = try? JSONDecoder().decode(RollbackPoint.self, from: bytes), point.id == name
            else { return nil }
            return (point, size(of: folder + "/" + name))
        }
    }

    /// Bytes under a folder, links not followed.
    static func size(of path: String) -> Int64 {
        var total: Int64 = 0
        var status = stat()
        guard lstat(path, &status) == 0 else { return 0 }
        total += Int64(status.st_size)
        if status.st_mode & S_IFMT == S_IFDIR {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] { total += size(of: path + "/" + name) }
        }
        return total
    }

    /// The points to delete once `added` (bytes) is written: beyond the newest `keep` (the new
    /// one counted), or while all of them together pass `keepBytes`; the new point always stays.
    static func expired(_ points: [(point: RollbackPoint, bytes: Int64)], added: Int64, keep: Int, keepBytes: Int) -> [RollbackPoint] {
        var kept = Array(points.suffix(max(0, keep - 1)))
        var total = kept.map(\.bytes).reduce(added, +)
        while total > Int64(keepBytes), let oldest = kept.first {
            kept.removeFirst()
            total -= oldest.bytes
        }
        let keptIDs = Set(kept.map(\.point.id))
        return points.map(\.point).filter { !keptIDs.contains($0.id) }
    }
}
