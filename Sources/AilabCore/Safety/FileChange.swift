import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The file-system changes a plan may hold, applied with plain system calls.
enum FileChange {
    static func apply(_ action: MutatingAction) throws {
        switch action {
        case .run:
            throw AilabError.failed("a command step cannot be applied as a file change")
        case .createDirectory(let path, let mode):
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try check(chmod(path, mode_t(mode)), "chmod \(path)")
        case .createFile(let path, let mode):
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
            try check(fd >= 0 ? 0 : -1, "create \(path)")
            defer { close(fd) }
            try check(fchmod(fd, mode_t(mode)), "chmod \(path)")
        case .rename(let from, let to):
            try sync(from)
            try check(rename(from, to), "rename \(from) to \(to)")
            try sync(URL(fileURLWithPath: to).deletingLastPathComponent().path)
        case .remove(let path):
            // Only regular files, and a symlink is never followed: lstat sees the link itself.
            var status = stat()
            try check(lstat(path, &status), "stat \(path)")
            guard (status.st_mode & S_IFMT) == S_IFREG else {
                throw AilabError.failed("refused to remove \(path): not a regular file")
            }
            try check(unlink(path), "remove \(path)")
        }
    }

    private static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try check(fd >= 0 ? 0 : -1, "open \(path)")
        defer { close(fd) }
        try check(fsync(fd), "fsync \(path)")
    }

    private static func check(_ result: Int32, _ what: String) throws {
        if result != 0 {
            throw AilabError.failed("\(what): \(String(cString: strerror(errno)))")
        }
    }
}
