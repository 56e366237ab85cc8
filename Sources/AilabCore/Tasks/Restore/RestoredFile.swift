import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Puts one member extracted into ailab's private folder back at its place. The target's folder is
/// walked as SafeFolder walks it; a file or link is written under a new name in that folder, with
/// the archive's owner, mode and mtime, and renamed over the target, so whatever stands at the
/// target (a link someone planted included) is replaced, never followed.
enum RestoredFile {
    static func install(from source: String, to target: String) throws {
        guard let slash = target.lastIndex(of: "/"), target.hasPrefix("/") else {
            throw AilabError.failed("\(target) is not an absolute path")
        }
        let name = String(target[target.index(after: slash)...])
        // Missing folders above it are made 0755; those the archive holds were restored before it.
        let folder = try SafeFolder.open(slash == target.startIndex ? "/" : String(target[..<slash]), creating: 0o755)
        defer { close(folder) }
        var status = stat()
        guard lstat(source, &status) == 0 else { throw FileChange.failure("stat \(source)") }
        let temporary = ".\(name).ailab-restore"
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            try copyFile(source, status, into: folder, as: temporary, target)
        case S_IFLNK:
            guard let link = ManifestEntry.linkTarget(source), symlinkat(link, folder, temporary) == 0 else {
                throw FileChange.failure("link \(target)")
            }
            _ = fchownat(folder, temporary, status.st_uid, status.st_gid, AT_SYMLINK_NOFOLLOW)
        case S_IFDIR:
            return try restoreFolder(status, in: folder, name, target)
        default:
            throw AilabError.failed("refused to restore \(target): not a file, a link or a folder")
        }
        guard renameat(folder, temporary, folder, name) == 0 else {
            let failure = FileChange.failure("rename over \(target)")
            _ = unlinkat(folder, temporary, 0)
            throw failure
        }
        guard fsync(folder) == 0 else { throw FileChange.failure("fsync the folder of \(target)") }
    }

    private static func copyFile(_ source: String, _ status: stat, into folder: Int32, as temporary: String, _ target: String) throws {
        let input = open(source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard input >= 0 else { throw FileChange.failure("open \(source)") }
        defer { close(input) }
        _ = unlinkat(folder, temporary, 0)
        let output = openat(folder, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw FileChange.failure("create a new file beside \(target)") }
        defer { close(output) }
        do {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = read(input, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else { throw FileChange.failure("read \(source)") }
                if count == 0 { break }
                var written = 0
                while written < count {
                    let step = buffer[written..<count].withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
                    guard step > 0 else { throw FileChange.failure("write beside \(target)") }
                    written += step
                }
            }
            // Owner first: chown clears setuid and setgid, which the mode then sets.
            guard fchown(output, status.st_uid, status.st_gid) == 0, fchmod(output, status.st_mode & 0o7777) == 0 else {
                throw FileChange.failure("set the owner and mode of \(target)")
            }
            var times = [timespec(tv_sec: status.st_atim.tv_sec, tv_nsec: status.st_atim.tv_nsec), status.st_mtim]
            _ = futimens(output, &times)
            guard fsync(output) == 0 else { throw FileChange.failure("fsync \(target)") }
        } catch {
            _ = unlinkat(folder, temporary, 0)
            throw error
        }
    }

    /// A folder is made when missing, and gets the archive's owner and mode; a link in its place is refused.
    private static func restoreFolder(_ status: stat, in folder: Int32, _ name: String, _ target: String) throws {
        if mkdirat(folder, name, 0o700) != 0 && errno != EEXIST { throw FileChange.failure("mkdir \(target)") }
        let descriptor = openat(folder, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw AilabError.failed(
                "refused to restore the folder \(target): "
                    + (errno == ELOOP || errno == ENOTDIR ? "something else stands there" : String(cString: strerror(errno))))
        }
        defer { close(descriptor) }
        guard fchown(descriptor, status.st_uid, status.st_gid) == 0, fchmod(descriptor, status.st_mode & 0o7777) == 0 else {
            throw FileChange.failure("set the owner and mode of \(target)")
        }
    }
}
