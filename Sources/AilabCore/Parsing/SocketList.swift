import FoundationEssentials

/// A listening socket and the process that holds it.
package struct ListeningSocket: Sendable, Equatable, Codable {
    package var proto: String
    package var address: String
    package var port: Int
    package var process: String?

    /// 127.0.0.0/8, ::1 and IPv4-mapped loopback: reachable from this host only.
    package var isLoopback: Bool {
        let bare = address.split(separator: "%").first.map(String.init) ?? address
        return bare.hasPrefix("127.") || bare == "::1" || bare.hasPrefix("::ffff:127.")
    }

    package var summary: String { "\(port)/\(proto) on \(address)" + (process.map { " (\($0))" } ?? "") }
}

/// Listening sockets from the kernel's own tables, `/proc/net/{tcp,tcp6,udp,udp6}`, and their
/// owners from `/proc/<pid>/fd` and `/proc/<pid>/comm`. Nothing here is text a user wrote but the
/// process name, which is escaped: a name with a newline cannot add a line (as it could to `ss -p`).
package enum SocketList {
    /// One table: TCP sockets in state 0A (listen), UDP sockets in state 07 (unconnected, bound).
    package static func parse(table: String, proto: String) -> [(address: String, port: Int, inode: String)] {
        let listening = proto == "tcp" ? "0A" : "07"
        return table.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 10, fields[3] == listening else { return nil }
            let local = fields[1].split(separator: ":")
            guard local.count == 2, let port = Int(local[1], radix: 16), let address = address(hex: local[0]) else { return nil }
            return (address, port, String(fields[9]))
        }
    }

    /// The kernel prints each 32-bit word of the address in host order (little-endian here).
    static func address(hex: Substring) -> String? {
        let bytes = stride(from: 0, to: hex.count, by: 2).compactMap { offset -> UInt8? in
            let start = hex.index(hex.startIndex, offsetBy: offset)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)
        }
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        let ordered = stride(from: 0, to: bytes.count, by: 4).flatMap { bytes[$0..<$0 + 4].reversed() }
        if ordered.count == 4 { return ordered.map(String.init).joined(separator: ".") }
        if ordered[0..<10].allSatisfy({ $0 == 0 }) && ordered[10] == 0xff && ordered[11] == 0xff {
            return "::ffff:" + ordered[12...].map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(ordered[$0]) << 8 | UInt16(ordered[$0 + 1]), radix: 16) }
        return compressed(groups)
    }

    /// RFC 5952: the longest run of two or more zero groups becomes "::".
    private static func compressed(_ groups: [String]) -> String {
        var best = (start: -1, length: 0), run = (start: -1, length: 0)
        for (index, group) in groups.enumerated() {
            if group == "0" {
                run = run.start < 0 ? (index, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        guard best.length >= 2 else { return groups.joined(separator: ":") }
        return groups[..<best.start].joined(separator: ":") + "::" + groups[(best.start + best.length)...].joined(separator: ":")
    }
}
