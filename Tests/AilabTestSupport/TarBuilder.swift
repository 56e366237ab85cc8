import Foundation

/// ustar members made by hand, for streams a test shapes itself: what the fake tar writes, and
/// damaged or hostile streams. Names stay within ustar's 100 bytes.
package enum TarBuilder {
    /// The end-of-archive blocks.
    package static let end = [UInt8](repeating: 0, count: 1024)

    /// One header block; `type` is tar's type flag ("0" a file, "5" a folder, "2" a link).
    package static func header(
        _ name: String, type: Character, mode: Int, uid: Int = 0, gid: Int = 0, size: Int = 0, target: String = ""
    ) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            for (index, byte) in text.utf8.enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            put(String(repeating: "0", count: max(0, width - 1 - String(value, radix: 8).count)) + String(value, radix: 8), at: offset)
        }
        put(name, at: 0)
        octal(mode, at: 100, width: 8)
        octal(uid, at: 108, width: 8)
        octal(gid, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(1_790_000_000, at: 136, width: 12)
        block[156] = type.asciiValue ?? 0
        put(target, at: 157)
        put("ustar\0" + "00", at: 257)
        put("        ", at: 148)
        octal(block.reduce(0) { $0 + Int($1) }, at: 148, width: 7)
        return block
    }

    /// A whole member: its header, then its content padded to a block.
    package static func member(
        _ name: String, type: Character = "0", mode: Int = 0o644, uid: Int = 0, gid: Int = 0, content: [UInt8] = [], target: String = ""
    ) -> [UInt8] {
        header(name, type: type, mode: mode, uid: uid, gid: gid, size: content.count, target: target) + content
            + [UInt8](repeating: 0, count: (512 - content.count % 512) % 512)
    }

    /// What tar --create writes of one path: a folder, a file with its content, or a link.
    package static func member(of path: String, as name: String) -> [UInt8] {
        var status = stat()
        guard lstat(path, &status) == 0 else { return [] }
        let mode = Int(status.st_mode & 0o7777)
        let (uid, gid) = (Int(status.st_uid), Int(status.st_gid))
        switch status.st_mode & S_IFMT {
        case S_IFDIR: return member(name + "/", type: "5", mode: mode, uid: uid, gid: gid)
        case S_IFLNK:
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? ""
            return member(name, type: "2", mode: mode, uid: uid, gid: gid, target: target)
        default:
            let content = FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
            return member(name, mode: mode, uid: uid, gid: gid, content: content)
        }
    }
}
