#if canImport(Glibc)
    import Glibc
#endif

/// A new file ailab created itself in a folder it opened itself, and still holds open: what a
/// command writes into it, what is verified and what is published is this one inode, whatever
/// someone does to the names around it. Where the filesystem allows it the file has no name at
/// all until it is published (O_TMPFILE), so nothing can be swapped and a killed run leaves
/// nothing behind; elsewhere it is created under `path` with O_EXCL and O_NOFOLLOW.
package final class CreatedFile: @unchecked Sendable {
    package let path: String
    let folder: Int32
    let name: String
    let descriptor: Int32
    /// Whether the file has its temporary name (no O_TMPFILE here).
    let named: Bool
    private let identity: (device: UInt, inode: UInt)

    /// O_TMPFILE as Linux defines it on every architecture ailab builds for (__O_TMPFILE | O_DIRECTORY).
    static let temporaryFile: Int32 = 0o20000000 | O_DIRECTORY

    init(path: String, mode: UInt32) throws {
        let split = path.lastIndex(of: "/").map {
            (String(path[..<$0].isEmpty ? "/" : path[..<$0]), String(path[path.index(after: $0)...]))
        }
        guard let (folderPath, name) = split, !name.isEmpty else { throw AilabError.failed("create \(path): not a file path") }
        let folder = try SafeFolder.open(folderPath)
        var descriptor = openat(folder, ".", Self.temporaryFile | O_RDWR | O_CLOEXEC, mode_t(mode))
        named = descriptor < 0
        if named {
            descriptor = openat(folder, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode))
        }
        guard descriptor >= 0 else {
            let error = FileChange.failure("create \(path)")
            close(folder)
            throw error
        }
        var status = stat()
        _ = fstat(descriptor, &status)
        // umask may have taken bits away; it is ailab's own new file, so setting its mode is safe.
        _ = fchmod(descriptor, mode_t(mode))
        self.path = path
        self.folder = folder
        self.name = name
        self.descriptor = descriptor
        identity = (UInt(status.st_dev), UInt(status.st_ino))
    }

    deinit {
        close(descriptor)
        close(folder)
    }

    var size: Int64 {
        var status = stat()
        return fstat(descriptor, &status) == 0 ? Int64(status.st_size) : 0
    }

    /// The file for a command's stdout.
    var output: OpenFile { OpenFile(descriptor: descriptor, path: path) }

    /// The file from its start, for a command's stdin.
    func rewound() throws -> OpenFile {
        guard lseek(descriptor, 0, SEEK_SET) == 0 else { throw FileChange.failure("rewind \(path)") }
        return output
    }

    /// Whether `name` in the folder is still this file.
    private func nameIsThisFile(_ entry: String) -> Bool {
        guard named else { return false }
        var status = stat()
        return fstatat(folder, entry, &status, AT_SYMLINK_NOFOLLOW) == 0
            && UInt(status.st_dev) == identity.device && UInt(status.st_ino) == identity.inode
    }

    /// Gives this inode its final name in the same folder (never replacing one), then drops the
    /// temporary name if it still names this file, and flushes both to disk.
    func publish(as finalName: String) throws {
        guard fsync(descriptor) == 0 else { throw FileChange.failure("fsync \(path)") }
        // AT_EMPTY_PATH (0x1000) links the open file itself; it needs CAP_DAC_READ_SEARCH.
        if linkat(descriptor, "", folder, finalName, 0x1000) != 0 {
            guard errno == ENOENT || errno == EPERM,
                linkat(AT_FDCWD, "/proc/self/fd/\(descriptor)", folder, finalName, AT_SYMLINK_FOLLOW) == 0
            else {
                throw FileChange.failure("publish \(path) as \(finalName)")
            }
        }
        if nameIsThisFile(name) { _ = unlinkat(folder, name, 0) }
        guard fsync(folder) == 0 else { throw FileChange.failure("fsync the folder of \(path)") }
    }

    /// Removes the temporary name, only while it still names this file.
    func discard() {
        if nameIsThisFile(name) { _ = unlinkat(folder, name, 0) }
    }
}
