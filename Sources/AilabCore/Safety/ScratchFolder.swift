import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// A private folder of ailab's own (a new name, mode 0700, made with mkdirat) for what no one else
/// may see or swap: an archive extracted for a diff or a drill, a new archive's member list and
/// manifest. It is used through its descriptor only: `path` names the open folder itself
/// (/proc/PID/fd/N), so renaming or replacing the name it was made under changes nothing ailab
/// reads or writes, and `checkUnmoved` says when that happened. It goes with everything in it when
/// the run is done, and when a signal ends the run.
package final class ScratchFolder: @unchecked Sendable {
    /// The folder as ailab and its children use it: through ailab's descriptor.
    package let path: String
    /// The name it was made under, for messages and removal.
    package let name: String
    private let folder: Int32
    private let base: Int32
    private let identity: (dev_t, ino_t)
    private let temporaries: Temporaries

    /// In `$TMPDIR` when it is absolute and passes SafeFolder's rules (root's own, or root's sticky
    /// folder, and writable by no one else); else in /run/ailab for root, /var/tmp for others.
    package init(_ context: TaskContext) throws {
        let (base, baseName) = try Self.base(context)
        var made: (Int32, String)?
        for _ in 0..<16 where made == nil {
            let leaf = "ailab." + String((0..<10).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement() ?? "a" })
            if mkdirat(base, leaf, 0o700) == 0 {
                made = (openat(base, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), leaf)
            } else if errno != EEXIST {
                break
            }
        }
        guard let (folder, leaf) = made, folder >= 0 else {
            let failure = FileChange.failure("make a private folder in \(baseName)")
            close(base)
            throw failure
        }
        var status = stat()
        fstat(folder, &status)
        self.folder = folder
        self.base = base
        identity = (status.st_dev, status.st_ino)
        name = (baseName == "/" ? "" : baseName) + "/" + leaf
        path = "/proc/\(getpid())/fd/\(folder)"
        temporaries = context.temporaries
        temporaries.register(name)
    }

    deinit {
        temporaries.unregister(name)
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: path) {
            for entry in entries { try? FileManager.default.removeItem(atPath: path + "/" + entry) }
        }
        if isUnmoved, let leaf = name.split(separator: "/").last { unlinkat(base, String(leaf), AT_REMOVEDIR) }
        close(folder)
        close(base)
    }

    /// Throws when the name the folder was made under no longer names it: someone moved or
    /// replaced it. What ailab wrote went into its own folder all the same; the run stops.
    /// Writes a file inside the folder (its own folders made as needed), returning its path.
    @discardableResult
    package func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        let target = path + "/" + relative
        if let slash = target.lastIndex(of: "/") {
            try FileManager.default.createDirectory(atPath: String(target[..<slash]), withIntermediateDirectories: true)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    /// Removes a file inside the folder; one already gone is no error.
    package func remove(_ relative: String) {
        unlink(path + "/" + relative)
    }

    package func checkUnmoved() throws {
        guard isUnmoved else { throw AilabError.failed("the private folder \(name) was moved or replaced during the run; stopped") }
    }

    private var isUnmoved: Bool {
        var status = stat()
        guard let leaf = name.split(separator: "/").last, fstatat(base, String(leaf), &status, AT_SYMLINK_NOFOLLOW) == 0 else {
            return false
        }
        return status.st_dev == identity.0 && status.st_ino == identity.1
    }

    /// The folder the private ones are made in, opened as SafeFolder opens folders.
    private static func base(_ context: TaskContext) throws -> (Int32, String) {
        if let asked = context.environment["TMPDIR"], asked.hasPrefix("/") {
            do {
                return (try SafeFolder.open(asked), asked)
            } catch let error as AilabError {
                context.warn("TMPDIR \(asked) is not used for private folders: \(error.message)")
            }
        }
        let fallback = context.isRoot ? "/run/ailab" : "/var/tmp"
        return (try SafeFolder.open(fallback, creating: fallback == "/run/ailab" ? 0o700 : nil), fallback)
    }

    /// The folder and all in it; links inside are removed, never followed.
    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
