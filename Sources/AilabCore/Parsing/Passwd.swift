/// `/etc/passwd` (passwd(5)): `name:password:UID:GID:GECOS:home:shell`.
package enum Passwd {
    /// Login names by uid; the first entry of a uid wins, as getpwuid(3) finds it.
    package static func names(_ text: String) -> [Int: String] {
        var names: [Int: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 3, let uid = Int(fields[2]), !fields[0].isEmpty, names[uid] == nil else { continue }
            names[uid] = String(fields[0])
        }
        return names
    }
}

/// `/proc/PID/status` (proc(5)): `Key:\tvalue` lines.
package enum ProcStatus {
    /// The real uid, the first of `Uid:`'s four (real, effective, saved, filesystem).
    package static func realUID(_ text: String) -> Int? {
        guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("Uid:") }) else { return nil }
        return line.dropFirst(4).split(whereSeparator: \.isBlank).first.flatMap { Int($0) }
    }
}
