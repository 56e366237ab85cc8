import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// An archive root reads back, held open: a regular file owned by root (or ailab's own user) and
/// writable by no one else, in a folder SafeFolder trusts. Root restores /etc from it, so an
/// archive anyone else could have written is refused.
package final class ArchiveFile: @unchecked Sendable {
    package let path: String
    let descriptor: Int32

    package init(_ path: String) throws {
        guard let slash = path.lastIndex(of: "/"), path.hasPrefix("/") else {
            throw AilabError.usage("invalid archive '\(path)': not an absolute path")
        }
        let folder: Int32
        do {
            folder = try SafeFolder.open(slash == path.startIndex ? "/" : String(path[..<slash]))
        } catch let error as AilabError {
            throw AilabError.usage("invalid archive '\(path)': \(error.message)")
        }
        defer { close(folder) }
        let fd = openat(folder, String(path[path.index(after: slash)...]), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw AilabError.usage(
                "invalid archive '\(path)': " + (errno == ELOOP ? "a symbolic link" : String(cString: strerror(errno)).lowercased()))
        }
        var status = stat()
        let problem: String? =
            switch true {
            case fstat(fd, &status) != 0: "cannot be read"
            case status.st_mode & S_IFMT != S_IFREG: "not a regular file"
            case status.st_uid != 0 && status.st_uid != geteuid(): "owned by uid \(status.st_uid), not root"
            case status.st_mode & (S_IWGRP | S_IWOTH) != 0: "writable by group or others"
            default: nil
            }
        if let problem {
            close(fd)
            throw AilabError.usage("invalid archive '\(path)': \(problem)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        self.path = path
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// The archive from its start, for a command's stdin.
    func rewound() throws -> OpenFile {
        guard lseek(descriptor, 0, SEEK_SET) == 0 else { throw FileChange.failure("rewind \(path)") }
        return OpenFile(descriptor: descriptor, path: path)
    }

    /// The newest `ailab-config-*.tar.gz` in a folder, by its name's time.
    package static func newest(in folder: String) throws -> String {
        let entries: [FolderEntry]?
        do {
            entries = try FolderEntry.list(folder)
        } catch {
            throw AilabError.usage("cannot read the backup folder \(folder): \(error)")
        }
        guard let name = (entries ?? []).filter({ $0.isRegularFile && ArchiveName.matches($0.name) }).map(\.name).max() else {
            throw AilabError.failed("no ailab-config archive in \(folder); give one, or run sudo ailab config-backup --execute first")
        }
        return folder + "/" + name
    }
}
