import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Reads the host's files under a root ("/" in the program, a test folder in tests). Nothing
/// here follows a link it is not asked to read.
package struct HostFiles: Sendable {
    package let root: String

    package init(root: String = "") {
        self.root = root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    package func path(_ absolute: String) -> String { root + absolute }

    package func read(_ absolute: String) -> String? {
        try? String(contentsOfFile: path(absolute), encoding: .utf8)
    }

    /// The file's bytes, a link followed; nil when it cannot be read.
    package func bytes(_ absolute: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path(absolute)).map { [UInt8]($0) }
    }

    package func exists(_ absolute: String) -> Bool {
        access(path(absolute), F_OK) == 0
    }

    /// A folder's names, sorted; none when it is missing or cannot be read.
    package func list(_ absolute: String) -> [String] {
        ((try? entries(absolute)) ?? nil)?.map(\.name).sorted() ?? []
    }

    /// A folder's entries as lstat sees them; nil when it does not exist, throws when it cannot be read.
    package func entries(_ absolute: String) throws -> [FolderEntry]? {
        try FolderEntry.list(path(absolute))
    }

    /// The entry itself, a link not followed; nil when there is none.
    package func entry(_ absolute: String) -> FolderEntry? {
        FolderEntry.at(path(absolute))
    }

    /// Where a symbolic link points, as written in it.
    package func linkTarget(_ absolute: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path(absolute), &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The pid holding a write-conflicting fcntl lock on the file (as dpkg and APT lock theirs);
    /// nil when the file is free or missing. An open file description's lock reports pid -1.
    package func lockHolder(_ absolute: String) -> Int32? {
        let fd = open(path(absolute), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var query = flock()
        query.l_type = Int16(F_WRLCK)
        query.l_whence = Int16(SEEK_SET)
        // F_OFD_GETLK (Linux 3.15), which Glibc's module leaves out: it sees this process's own locks too.
        guard fcntl(fd, 36, &query) == 0, query.l_type != Int16(F_UNLCK) else { return nil }
        return query.l_pid
    }

    /// Ubuntu's reboot flag, and the packages that asked for the reboot (`/run/reboot-required.pkgs`).
    package var rebootFlag: (required: Bool, packages: [String]) {
        let packages = Set((read("/run/reboot-required.pkgs") ?? "").split(whereSeparator: \.isNewline).map(String.init))
        return (exists("/run/reboot-required"), packages.sorted())
    }

    /// The host's mounts as its init sees them. A unit's sandbox (ProtectSystem=, PrivateTmp=)
    /// remounts its own view read-only and adds mounts of its own; a run without root, which may
    /// not read init's table, sees its own.
    package var mounts: [Mount] {
        MountInfo.parse(read("/proc/1/mountinfo") ?? read("/proc/self/mountinfo") ?? "")
    }

    /// Every path below a folder, relative to it, links not followed into.
    package func subpaths(_ absolute: String) -> [String] {
        var found: [String] = []
        func walk(_ relative: String) {
            for entry in (try? FolderEntry.list(path(absolute) + relative)) ?? [] {
                let child = relative + "/" + entry.name
                found.append(String(child.dropFirst()))
                if entry.isFolder { walk(child) }
            }
        }
        walk("")
        return found
    }
}

/// A file in a folder listing, as lstat sees it (a symlink is itself, never its target).
package struct FolderEntry: Sendable, Equatable {
    package var name: String
    package var isRegularFile: Bool
    package var isFolder = false
    package var modified: Date
    package var size: Int64

    package init(name: String, isRegularFile: Bool, isFolder: Bool = false, modified: Date, size: Int64) {
        self.name = name
        self.isRegularFile = isRegularFile
        self.isFolder = isFolder
        self.modified = modified
        self.size = size
    }

    /// One path's own entry; nil when lstat finds none.
    static func at(_ path: String) -> FolderEntry? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        return FolderEntry(name: String(path.split(separator: "/").last ?? ""), status)
    }

    private init(name: String, _ status: stat) {
        self.init(
            name: name, isRegularFile: (status.st_mode & S_IFMT) == S_IFREG, isFolder: (status.st_mode & S_IFMT) == S_IFDIR,
            modified: Date(timeIntervalSince1970: Double(status.st_mtim.tv_sec)), size: Int64(status.st_size))
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
            entries.append(FolderEntry(name: name, status))
        }
        return entries
    }
}
