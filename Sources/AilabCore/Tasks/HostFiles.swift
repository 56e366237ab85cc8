import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Reads the host's files under a root ("/" in the program, a test folder in tests).
package struct HostFiles: Sendable {
    package let root: String

    package init(root: String = "") {
        self.root = root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    package func path(_ absolute: String) -> String { root + absolute }

    package func read(_ absolute: String) -> String? {
        try? String(contentsOfFile: path(absolute), encoding: .utf8)
    }

    package func exists(_ absolute: String) -> Bool {
        FileManager.default.fileExists(atPath: path(absolute))
    }
}

/// A file in a folder listing, as lstat sees it (a symlink is itself, never its target).
package struct FolderEntry: Sendable, Equatable {
    package var name: String
    package var isRegularFile: Bool
    package var modified: Date
    package var size: Int64

    package init(name: String, isRegularFile: Bool, modified: Date, size: Int64) {
        self.name = name
        self.isRegularFile = isRegularFile
        self.modified = modified
        self.size = size
    }

    /// The folder's entries; nil when it does not exist, throws when it cannot be read.
    package static func list(_ folder: String) throws -> [FolderEntry]? {
        guard let directory = opendir(folder) else {
            if errno == ENOENT { return nil }
            throw SystemError()
        }
        defer { closedir(directory) }
        var entries: [FolderEntry] = []
        while let record = readdir(directory) {
            let name = withUnsafeBytes(of: record.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            var status = stat()
            guard name != ".", name != "..", lstat(folder + "/" + name, &status) == 0 else { continue }
            entries.append(
                FolderEntry(
                    name: name, isRegularFile: (status.st_mode & S_IFMT) == S_IFREG,
                    modified: Date(timeIntervalSince1970: Double(status.st_mtim.tv_sec)), size: Int64(status.st_size)))
        }
        return entries
    }
}
