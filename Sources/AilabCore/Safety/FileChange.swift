import FoundationEssentials

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
            close(try SafeFolder.open(path, creating: mode_t(mode)))
        case .createFile, .publish:
            throw AilabError.failed("\(action.description) goes through the file ailab created")
        case .remove(let path):
            // Only regular files, and a symlink is never followed: lstat sees the link itself.
            var status = stat()
            try check(lstat(path, &status), "stat \(path)")
            guard (status.st_mode & S_IFMT) == S_IFREG else {
                throw AilabError.failed("refused to remove \(path): not a regular file")
            }
            try check(unlink(path), "remove \(path)")
        case .restore(let from, let to):
            try RestoredFile.install(from: from, to: to)
        }
    }

    private static func check(_ result: Int32, _ what: String) throws {
        if result != 0 { throw failure(what) }
    }

    static func failure(_ what: String) -> AilabError {
        AilabError.failed("\(what): \(String(cString: strerror(errno)).lowercased())")
    }
}
