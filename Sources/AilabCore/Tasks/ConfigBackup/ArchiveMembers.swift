/// What restore and the restore drill accept of an archive's members: one set of rules for both,
/// applied to the members' headers (tar's exact listing for restore, before anything is extracted;
/// the stream for the drill). A symbolic link is restored as a link and never followed, so an
/// absolute target (as /etc/localtime's) is kept; a relative one that climbs above the tree, or
/// any member beneath a link, is refused.
enum ArchiveMembers {
    /// Each member that cannot be restored, named with why; empty when every one can.
    static func refusals(_ members: [TarMember]) -> [String] {
        var seen = Set<String>()
        var links = Set<String>()
        var refused: [String] = []
        for member in members {
            let shown = "/" + member.name
            if let reason = reason(member, seen: seen, links: links) {
                refused.append("\(member.name.isEmpty ? "an empty name" : shown): \(reason)")
            }
            seen.insert(member.name)
            if member.kind == .symlink { links.insert(member.name) }
        }
        return refused
    }

    private static func reason(_ member: TarMember, seen: Set<String>, links: Set<String>) -> String? {
        let components = member.name.split(separator: "/", omittingEmptySubsequences: false)
        if member.name.isEmpty || member.name.hasPrefix("/") || components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            return "not a plain relative name"
        }
        if let above = (1..<components.count).map({ components.prefix($0).joined(separator: "/") }).first(where: links.contains) {
            return "beneath the link /\(above)"
        }
        switch member.kind {
        case .file, .folder: return nil
        case .symlink:
            return climbs(member.name, member.target ?? "") ? "a link that climbs out of the restored tree" : nil
        case .hardLink:
            guard let target = member.target, seen.contains(target), !links.contains(target) else {
                return "a hard link to something outside the archive"
            }
            return nil
        case .characterDevice, .blockDevice: return "a device"
        case .fifo: return "a FIFO"
        case .socket: return "a socket"
        case .other(let type): return "of tar type '\(type)'"
        }
    }

    /// A relative link whose target climbs above the top of the tree it is restored into.
    static func climbs(_ path: String, _ target: String) -> Bool {
        guard !target.hasPrefix("/") else { return false }
        var depth = path.split(separator: "/").count - 1
        for component in target.split(separator: "/") {
            if component == ".." { depth -= 1 } else if component != "." { depth += 1 }
            if depth < 0 { return true }
        }
        return false
    }
}
