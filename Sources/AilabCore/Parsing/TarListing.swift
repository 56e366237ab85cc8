/// One member of `tar --list --verbose --numeric-owner --quoting-style=c --full-time`, as GNU tar
/// prints it: `MODE UID/GID SIZE DATE TIME "name"`, then ` -> "target"` for a symbolic link or
/// ` link to "target"` for a hard link. C quoting escapes every byte that is not printable ASCII,
/// so a name comes back exactly, whatever bytes it holds (a newline, a backslash, UTF-8).
package struct TarMember: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        case file, folder, symlink, hardLink, characterDevice, blockDevice, fifo, socket, other(Character)
    }

    package var kind: Kind
    /// The name as tar stores it, without a trailing `/`.
    package var name: String
    /// A link's target, as stored.
    package var target: String?
    /// The permission bits, setuid, setgid and sticky included.
    package var mode: UInt32
    package var uid: Int
    package var gid: Int

    package static let arguments = ["--list", "--verbose", "--numeric-owner", "--quoting-style=c", "--full-time"]

    package static func parse(_ output: String) throws -> [TarMember] {
        let (members, unreadable) = readable(output)
        if let unreadable { throw ParseError("tar listing", "cannot read the line \(unreadable)") }
        return members
    }

    /// The members before the first line that is not one, and that line: a damaged stream lists
    /// its good members, then whatever the damage decompressed to.
    package static func readable(_ output: String) -> (members: [TarMember], unreadable: Substring?) {
        var members: [TarMember] = []
        for line in output.split(separator: "\n") {
            guard let member = member(line) else { return (members, line) }
            members.append(member)
        }
        return (members, nil)
    }

    private static func member(_ line: Substring) -> TarMember? {
        var fields: [Substring] = []
        var rest = line[...]
        for _ in 0..<5 {
            rest = rest.drop { $0 == " " }
            let field = rest.prefix { $0 != " " }
            guard !field.isEmpty else { return nil }
            fields.append(field)
            rest = rest.dropFirst(field.count)
        }
        rest = rest.drop { $0 == " " }
        let modeText = fields[0]
        let owner = fields[1].split(separator: "/")
        // GNU tar appends `+` (ACLs), `*` (xattrs) or `.` (SELinux) when asked for them.
        guard modeText.count == 10 || (modeText.count == 11 && "+*.".contains(modeText.last ?? " ")), let type = modeText.first,
            owner.count == 2, let uid = Int(owner[0]), let gid = Int(owner[1]),
            let (name, afterName) = quoted(rest)
        else { return nil }
        var target: String?
        for marker in [" -> ", " link to "] where afterName.hasPrefix(marker) {
            guard let (linked, end) = quoted(afterName.dropFirst(marker.count)), end.isEmpty else { return nil }
            target = linked
        }
        if target == nil && !afterName.isEmpty { return nil }
        let kinds: [Character: Kind] = [
            "-": .file, "d": .folder, "l": .symlink, "h": .hardLink, "c": .characterDevice, "b": .blockDevice, "p": .fifo,
            "s": .socket,
        ]
        let stripped = name.count > 1 && name.hasSuffix("/") ? String(name.dropLast()) : name
        return TarMember(
            kind: kinds[type] ?? .other(type), name: stripped, target: target, mode: permissions(modeText.dropFirst().prefix(9)), uid: uid,
            gid: gid)
    }

    /// `rwsr-xr-x` → 0o4755.
    private static func permissions(_ text: Substring) -> UInt32 {
        let characters = Array(text)
        var mode: UInt32 = 0
        for (index, character) in characters.enumerated() {
            let bit = UInt32(1) << UInt32(8 - index)
            if "rwxst".contains(character) { mode |= bit }
        }
        let special: [(Int, Character, UInt32)] = [
            (2, "s", 0o4000), (2, "S", 0o4000), (5, "s", 0o2000), (5, "S", 0o2000), (8, "t", 0o1000), (8, "T", 0o1000),
        ]
        for (index, character, bit) in special where characters.count > index && characters[index] == character { mode |= bit }
        return mode
    }

    /// A C-quoted string at the start of `text`, and what follows it.
    private static func quoted(_ text: Substring) -> (String, Substring)? {
        guard text.first == "\"" else { return nil }
        var bytes: [UInt8] = []
        var index = text.utf8.index(after: text.utf8.startIndex)
        let utf8 = text.utf8
        let escapes: [UInt8: UInt8] = [
            UInt8(ascii: "n"): 10, UInt8(ascii: "t"): 9, UInt8(ascii: "r"): 13, UInt8(ascii: "a"): 7, UInt8(ascii: "b"): 8,
            UInt8(ascii: "f"): 12, UInt8(ascii: "v"): 11, UInt8(ascii: "\\"): 92, UInt8(ascii: "\""): 34, UInt8(ascii: "?"): 63,
        ]
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "\"") {
                return (String(decoding: bytes, as: UTF8.self), Substring(utf8[utf8.index(after: index)...]))
            }
            if byte != UInt8(ascii: "\\") {
                bytes.append(byte)
                index = utf8.index(after: index)
                continue
            }
            index = utf8.index(after: index)
            guard index < utf8.endIndex else { return nil }
            let escaped = utf8[index]
            if let value = escapes[escaped] {
                bytes.append(value)
                index = utf8.index(after: index)
            } else if (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(escaped) {
                var value: UInt32 = 0
                var digits = 0
                while digits < 3, index < utf8.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(utf8[index]) {
                    value = value * 8 + UInt32(utf8[index] - UInt8(ascii: "0"))
                    index = utf8.index(after: index)
                    digits += 1
                }
                bytes.append(UInt8(truncatingIfNeeded: value))
            } else {
                return nil
            }
        }
        return nil
    }
}
