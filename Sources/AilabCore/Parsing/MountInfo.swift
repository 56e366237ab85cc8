/// `/proc/self/mountinfo` (proc_pid_mountinfo(5)): `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS
/// [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS`, with blanks, tabs, newlines and backslashes in
/// paths written as octal escapes (`\040`).
package struct Mount: Sendable, Equatable {
    package var path: String
    package var fstype: String
    package var source: String
    /// The mount's own options, then the filesystem's (the superblock's), as the kernel lists them.
    package var options: [String]
}

package enum MountInfo {
    /// Every mount in order; a later mount on the same point hides the earlier ones.
    package static func parse(_ text: String) -> [Mount] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard let dash = fields.firstIndex(of: "-"), dash >= 6, fields.count >= dash + 3 else { return nil }
            let options = fields[5].split(separator: ",") + fields[dash + 3].split(separator: ",")
            var seen = Set<Substring>()
            return Mount(
                path: unescaped(fields[4]), fstype: String(fields[dash + 1]), source: unescaped(fields[dash + 2]),
                options: options.filter { seen.insert($0).inserted }.map(String.init))
        }
    }

    /// The mount that is visible at each point: the last one mounted there.
    package static func visible(_ mounts: [Mount]) -> [String: Mount] {
        Dictionary(mounts.map { ($0.path, $0) }, uniquingKeysWith: { _, later in later })
    }

    static func unescaped(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = field.utf8[...]
        while let byte = utf8.popFirst() {
            let digits = utf8.prefix(3)
            if byte == UInt8(ascii: "\\"), digits.count == 3, digits.allSatisfy({ (0x30...0x37).contains($0) }) {
                bytes.append(digits.reduce(0) { $0 &* 8 &+ ($1 - 0x30) })
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
