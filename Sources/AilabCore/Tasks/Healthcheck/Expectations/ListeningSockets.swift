#if canImport(Glibc)
    import Glibc
#endif

/// The host's listening sockets as /proc shows them, each with its owner's name.
enum ListeningSockets {
    /// Every listening socket beyond nothing: the four tables under `files`, owners resolved.
    package static func read(_ files: HostFiles) -> [ListeningSocket] {
        let tables = [("tcp", "tcp"), ("tcp6", "tcp"), ("udp", "udp"), ("udp6", "udp")]
        let found = tables.flatMap { name, proto in
            SocketList.parse(table: files.read("/proc/net/\(name)") ?? "", proto: proto).map { (proto, $0.address, $0.port, $0.inode) }
        }
        let owners = owners(of: Set(found.map(\.3)), files)
        return found.map { ListeningSocket(proto: $0.0, address: $0.1, port: $0.2, process: owners[$0.3]) }
    }

    /// inode → the owner's name, from the links in /proc/<pid>/fd ("socket:[12345]").
    static func owners(of inodes: Set<String>, _ files: HostFiles) -> [String: String] {
        guard !inodes.isEmpty, let processes = try? files.entries("/proc") else { return [:] }
        var owners: [String: String] = [:]
        for process in processes where process.name.allSatisfy(\.isNumber) {
            let folder = files.path("/proc/\(process.name)/fd")
            for descriptor in (try? FolderEntry.list(folder)) ?? [] {
                var target = [CChar](repeating: 0, count: 64)
                let count = readlink(folder + "/" + descriptor.name, &target, target.count - 1)
                guard count > 0 else { continue }
                let link = String(decoding: target.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                guard link.hasPrefix("socket:["), link.hasSuffix("]") else { continue }
                let inode = String(link.dropFirst(8).dropLast())
                if inodes.contains(inode), owners[inode] == nil {
                    let name = files.read("/proc/\(process.name)/comm")?.trimmed(where: \.isNewline) ?? "?"
                    owners[inode] = name.escapingControls
                }
            }
        }
        return owners
    }
}
