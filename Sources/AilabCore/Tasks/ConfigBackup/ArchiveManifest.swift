import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// One member of a config-backup archive as it stood when the archive was written.
package struct ManifestEntry: Sendable, Equatable, Codable {
    package enum Kind: String, Sendable, Codable {
        case file, folder, link, other
    }

    /// The member name, relative to `/` (`etc/ssh/sshd_config`).
    package var path: String
    package var kind: Kind
    package var size: Int64
    /// Permission bits with setuid, setgid and sticky, in octal (`0644`).
    package var mode: String
    package var uid: UInt32
    package var gid: UInt32
    package var sha256: String?
    /// A symbolic link's target, as written.
    package var target: String?

    package init(
        path: String, kind: Kind, size: Int64 = 0, mode: String, uid: UInt32 = 0, gid: UInt32 = 0, sha256: String? = nil,
        target: String? = nil
    ) {
        self.path = path
        self.kind = kind
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.sha256 = sha256
        self.target = target
    }

    /// The entry for what lstat sees at `absolute` (a link is itself, never its target).
    static func observe(_ absolute: String, as path: String) -> ManifestEntry? {
        var status = stat()
        guard lstat(absolute, &status) == 0 else { return nil }
        return ManifestEntry(path, status) { linkTarget(absolute) }
    }

    /// What lstat (or fstatat without following) says of `path`; `target` reads a link's.
    init(_ path: String, _ status: stat, target: () -> String?) {
        let kind: Kind =
            switch status.st_mode & S_IFMT {
            case S_IFREG: .file
            case S_IFDIR: .folder
            case S_IFLNK: .link
            default: .other
            }
        self.init(
            path: path, kind: kind, size: kind == .file ? Int64(status.st_size) : 0,
            mode: "0" + String(status.st_mode & 0o7777, radix: 8), uid: status.st_uid, gid: status.st_gid,
            target: kind == .link ? target() : nil)
    }

    /// The entry for a member as its tar header gives it; a hard link is the file it restores as.
    init(_ member: TarStream.Member) {
        let header = member.header
        let kind: Kind =
            switch header.kind {
            case .file, .hardLink: .file
            case .folder: .folder
            case .symlink: .link
            default: .other
            }
        self.init(
            path: header.name, kind: kind, size: kind == .file ? member.size : 0, mode: "0" + String(header.mode, radix: 8),
            uid: UInt32(truncatingIfNeeded: header.uid), gid: UInt32(truncatingIfNeeded: header.gid), sha256: member.sha256,
            target: kind == .link ? header.target : nil)
    }

    static func linkTarget(_ absolute: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(absolute, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// What every config-backup archive carries as its last member (its first, in archives of earlier
/// releases): each other member's path, size, mode, owner and sha256 as tar archived it, so that
/// a drill can prove the archive restores what was there.
package struct ArchiveManifest: Sendable, Equatable, Codable {
    /// Its place in the archive: a blind `tar -C / -x` puts it where ailab keeps its state.
    package static let member = "var/lib/ailab/config-backup-manifest.json"

    package var entries: [ManifestEntry]

    package init(entries: [ManifestEntry]) {
        self.entries = entries
    }

    package var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self) + "\n"
    }

    package static func parse(_ bytes: Data) throws -> ArchiveManifest {
        do {
            return try JSONDecoder().decode(ArchiveManifest.self, from: bytes)
        } catch {
            throw AilabError.failed("the archive's manifest \(member) cannot be read: \(error)")
        }
    }

    /// The sources' members as tar would archive them with these excludes (anchored, `*` matching
    /// `/`), parents before children; sockets are left out, as tar leaves them out.
    static func walk(_ sources: [String], root: String, excludes: [String]) -> [ManifestEntry] {
        var entries: [ManifestEntry] = []
        func visit(_ relative: String) {
            guard !excludes.contains(where: { fnmatch($0, relative, 0) == 0 }),
                let entry = ManifestEntry.observe(root + "/" + relative, as: relative)
            else { return }
            var status = stat()
            if lstat(root + "/" + relative, &status) == 0, status.st_mode & S_IFMT == S_IFSOCK { return }
            entries.append(entry)
            guard entry.kind == .folder else { return }
            for name in HostFiles(root: root).list("/" + relative) {
                visit(relative + "/" + name)
            }
        }
        for source in sources { visit(String(source.drop { $0 == "/" })) }
        return entries
    }
}
