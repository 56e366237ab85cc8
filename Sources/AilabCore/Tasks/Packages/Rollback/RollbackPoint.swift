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
    /// Set when a rollback brought the host back to this point; nil until then.
    package var rolledBack: RolledBack?

    /// When the rollback ran, and the packages it held so that no upgrade brings them forward again.
    package struct RolledBack: Sendable, Codable, Equatable {
        package var time: Double
        package var held: [String]
    }

    package static func folder(_ environment: [String: String]) -> String {
        folder(in: TaskContext.stateDirectory(environment))
    }

    static func folder(in stateFolder: String) -> String { stateFolder + "/rollback" }

    var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// The points in `folder`, oldest first, each with its size in bytes, and the records refused
    /// (a folder or manifest that fails TrustedFile's rules, or one that cannot be read), named.
    package static func all(in folder: String, _ records: any Records) -> (
        points: [(point: RollbackPoint, bytes: Int64)], refused: [String]
    ) {
        guard HostFiles().exists(folder) else { return ([], []) }
        do {
            close(try SafeFolder.open(folder))
        } catch {
            return ([], ["rollback points in \(folder) refused: \(error)"])
        }
        var refused: [String] = []
        let names = HostFiles(root: folder).list("/")
        let points = names.compactMap { name -> (point: RollbackPoint, bytes: Int64)? in
            do {
                guard let text = try records.read(.rollbackManifest(name)) else { return nil }
                let point = try JSONDecoder().decode(RollbackPoint.self, from: Data(text.utf8))
                guard point.id == name else { throw AilabError.failed("point \(name): its manifest names another id") }
                return (point, size(of: folder + "/" + name))
            } catch let error as AilabError {
                refused.append(error.message)
            } catch {
                refused.append("point \(name): its manifest cannot be read")
            }
            return nil
        }
        return (points, refused)
    }

    /// Refused records are named, never used.
    static func refusedCheck(_ refused: [String]) -> Check {
        Check(
            "rollback records", .failed, refused.joined(separator: "; "),
            next: "check who changed ailab's state folder; remove what is named, or make it root's alone (chown root, chmod go-w)")
    }

    /// The old version's .deb, only inside this point's own `debs/` folder: a plain name, and a
    /// regular file that root owns and no one else may write, checked on the folder's descriptor.
    static func securedDeb(_ name: String, in pointFolder: String) throws -> String {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw AilabError.failed("refused: the point names a .deb outside its debs/ folder (\(name))")
        }
        let folder = try SafeFolder.open(pointFolder + "/debs")
        defer { close(folder) }
        var status = stat()
        guard fstatat(folder, name, &status, AT_SYMLINK_NOFOLLOW) == 0, (status.st_mode & S_IFMT) == S_IFREG,
            status.st_uid == 0 || status.st_uid == geteuid(), status.st_mode & (S_IWGRP | S_IWOTH) == 0
        else { throw AilabError.failed("refused: \(pointFolder)/debs/\(name) is not a regular file only root writes") }
        return pointFolder + "/debs/" + name
    }

    /// Bytes under a folder, links not followed.
    static func size(of path: String) -> Int64 {
        var total: Int64 = 0
        var status = stat()
        guard lstat(path, &status) == 0 else { return 0 }
        total += Int64(status.st_size)
        if status.st_mode & S_IFMT == S_IFDIR {
            for name in HostFiles(root: path).list("/") { total += size(of: path + "/" + name) }
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
