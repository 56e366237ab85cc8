#if canImport(Glibc)
    import Glibc
#endif

/// The folder config-backup writes into as root. Anyone else who could write there could swap
/// the archive for a link to a file of root's, so such a folder is refused before anything runs.
enum BackupDestination {
    /// Throws a usage error (exit 2) naming the folder and what is wrong with it; a folder that
    /// does not exist yet is fine (ailab creates it, 0700).
    static func check(_ path: String, shownAs name: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return }
            throw AilabError.usage("invalid --dest '\(name)': \(String(cString: strerror(errno)).lowercased())")
        }
        let kind = status.st_mode & S_IFMT
        if kind == S_IFLNK { throw AilabError.usage("invalid --dest '\(name)': a symbolic link; give the real folder") }
        if kind != S_IFDIR { throw AilabError.usage("invalid --dest '\(name)': not a folder") }
        if status.st_uid != 0 { throw AilabError.usage("invalid --dest '\(name)': owned by uid \(status.st_uid), not root") }
        if status.st_mode & 0o022 != 0 {
            let mode = String(status.st_mode & 0o7777, radix: 8)
            throw AilabError.usage("invalid --dest '\(name)': writable by group or others (mode \(mode)); chmod go-w it first")
        }
    }

    /// Partial archives of runs that are gone: no live process holds them open.
    static func stalePartials(in folder: String, entries: [FolderEntry], _ files: HostFiles) -> [FolderEntry] {
        let partials = entries.filter { $0.isRegularFile && $0.name.hasPrefix(".ailab-config-") && $0.name.hasSuffix(".partial") }
        guard !partials.isEmpty else { return [] }
        let open = OpenFiles.paths(files)
        return partials.filter { !open.contains(folder + "/" + $0.name) }
    }
}

/// The files every live process holds open, from /proc/*/fd.
enum OpenFiles {
    static func paths(_ files: HostFiles) -> Set<String> {
        var found: Set<String> = []
        guard let processes = opendir(files.path("/proc")) else { return found }
        defer { closedir(processes) }
        while let entry = readdir(processes) {
            let pid = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard pid.allSatisfy(\.isNumber), let descriptors = opendir(files.path("/proc/\(pid)/fd")) else { continue }
            while let fd = readdir(descriptors) {
                let name = withUnsafeBytes(of: fd.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                var buffer = [CChar](repeating: 0, count: 4096)
                let count = readlink(files.path("/proc/\(pid)/fd/\(name)"), &buffer, buffer.count - 1)
                if count > 0 { found.insert(String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
            }
            closedir(descriptors)
        }
        return found
    }
}
