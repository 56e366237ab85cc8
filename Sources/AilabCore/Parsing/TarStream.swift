/// A tar stream read as it passes, as GNU tar reads one: ustar headers (with POSIX's name
/// prefix), GNU's long names (`L`, `K`) and base-256 numbers, and pax extended headers (`x`, and
/// `g` for all that follow). Each member's content is hashed as it goes by; nothing is stored but
/// the member list and, when asked, one member's content. As tar does without --ignore-zeros, the
/// first zero block ends the archive.
package final class TarStream: ByteSink, @unchecked Sendable {
    package struct Member: Sendable, Equatable {
        /// Name, kind, link target, mode and owner, as a restore applies them.
        package var header: TarMember
        /// The content's size; a hard link has its target's.
        package var size: Int64
        /// A regular file's content (a hard link's target's); nil for every other kind.
        package var sha256: String?
    }

    package private(set) var members: [Member] = []
    /// Why the stream cannot be read on, naming where; nil while it reads well.
    package private(set) var damage: String?
    /// The end-of-archive block was read.
    package private(set) var ended = false
    /// How many bytes of the stream certainly belong to its members: all but a header block not
    /// yet whole, and the end-of-archive blocks.
    package private(set) var settled: Int64 = 0
    /// The content of the member named `keeping`, when it came whole and within `keptLimit`.
    package private(set) var kept: [UInt8]?

    private let keeping: String?
    private let keptLimit: Int
    private var offset: Int64 = 0
    private var block: [UInt8] = []
    private var content = Content.none
    private var extensions = Extensions()
    private var global: [String: String] = [:]

    /// What the bytes after a header are.
    private enum Content {
        case none
        /// A member's content: hashed, and kept when it is the member asked for.
        case member(remaining: Int64, padding: Int, digest: SHA256?, keep: [UInt8]?)
        /// A long name or pax header's content, collected and read once whole.
        case extended(type: UInt8, remaining: Int64, padding: Int, bytes: [UInt8])
    }

    /// What the headers before a member say of it.
    private struct Extensions {
        var pax: [String: String] = [:]
        var longName: String?
        var longLink: String?
    }

    /// The longest long name or pax header read; tar's own are a few hundred bytes.
    static let extendedLimit: Int64 = 1 << 20

    package init(keeping: String? = nil, keptLimit: Int = 64 << 20) {
        self.keeping = keeping
        self.keptLimit = keptLimit
        block.reserveCapacity(512)
    }

    package func feed(_ bytes: UnsafeBufferPointer<UInt8>) {
        var rest = bytes[...]
        while !rest.isEmpty && damage == nil && !ended {
            if case .none = content {
                let count = min(512 - block.count, rest.count)
                block.append(contentsOf: rest.prefix(count))
                rest = rest.dropFirst(count)
                offset += Int64(count)
                guard block.count == 512 else { return }
                header(block)
                block.removeAll(keepingCapacity: true)
            } else {
                let count = consume(rest)
                rest = rest.dropFirst(count)
                offset += Int64(count)
                settled = offset
            }
        }
    }

    /// The stream has ended: a member, a header or the end-of-archive block left unfinished is damage.
    package func finish() {
        guard damage == nil && !ended else { return }
        switch content {
        case .member(let remaining, let padding, _, _) where remaining > 0 || padding > 0:
            let member = members[members.count - 1]
            fail(
                "/\(member.header.name): cut short, "
                    + (remaining > 0 ? "\(remaining) of its \(member.size) bytes missing" : "after its content"))
        case .extended(let type, _, _, _):
            fail("cut short inside a '\(Character(UnicodeScalar(type)))' header")
        default:
            fail(block.isEmpty ? "the tar stream ends without its end-of-archive block" : "the tar stream ends inside a header")
        }
    }

    /// Hands `bytes` to what is being read; returns how many it took.
    private func consume(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Int {
        let reading = content
        // Taken out, so that what is collected grows in place.
        content = .none
        switch reading {
        case .none: return 0
        case .member(var remaining, var padding, var digest, var keep):
            let count = Int(min(remaining, Int64(bytes.count)))
            let part = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes.prefix(count)))
            digest?.update(part)
            keep?.append(contentsOf: part)
            if (keep?.count ?? 0) > keptLimit { keep = nil }
            remaining -= Int64(count)
            let skipped = min(padding, bytes.count - count)
            padding -= skipped
            guard remaining == 0 && padding == 0 else {
                content = .member(remaining: remaining, padding: padding, digest: digest, keep: keep)
                return count + skipped
            }
            members[members.count - 1].sha256 = digest?.finish()
            kept = keep ?? kept
            return count + skipped
        case .extended(let type, var remaining, var padding, var collected):
            let count = Int(min(remaining, Int64(bytes.count)))
            collected += bytes.prefix(count)
            remaining -= Int64(count)
            let skipped = min(padding, bytes.count - count)
            padding -= skipped
            if remaining == 0 && padding == 0 {
                extended(type, collected)
            } else {
                content = .extended(type: type, remaining: remaining, padding: padding, bytes: collected)
            }
            return count + skipped
        }
    }

    private func header(_ block: [UInt8]) {
        let start = offset - 512
        if block.allSatisfy({ $0 == 0 }) {
            ended = true
            return
        }
        guard let checksum = Self.number(block[148..<156]), Self.checksums(block).contains(checksum) else {
            return fail("a damaged header at byte \(start) of the tar stream" + (members.last.map { ", after /\($0.header.name)" } ?? ""))
        }
        guard let size = Self.number(block[124..<136]), size >= 0 else { return fail("an unreadable size at byte \(start)") }
        let type = block[156]
        let padding = Int((512 - size % 512) % 512)
        settled = offset
        if "xgLK".utf8.contains(type) {
            guard size <= Self.extendedLimit else {
                return fail("a \(size)-byte '\(Character(UnicodeScalar(type)))' header at byte \(start)")
            }
            content = .extended(type: type, remaining: size, padding: padding, bytes: [])
            if size == 0 { consumeEmpty() }
            return
        }
        member(block, size: size, padding: padding, at: start)
    }

    private func member(_ block: [UInt8], size headerSize: Int64, padding headerPadding: Int, at start: Int64) {
        let pax = global.merging(extensions.pax) { _, local in local }
        let posix = block[257..<263].elementsEqual("ustar\0".utf8)
        var name = Self.text(block[0..<100])
        let prefix = posix ? Self.text(block[345..<500]) : ""
        if !prefix.isEmpty { name = prefix + "/" + name }
        name = pax["path"] ?? extensions.longName ?? name
        let link = pax["linkpath"] ?? extensions.longLink ?? Self.text(block[157..<257])
        extensions = Extensions()
        let size = pax["size"].flatMap { Int64($0) } ?? headerSize
        let padding = pax["size"] == nil ? headerPadding : Int((512 - size % 512) % 512)
        guard let mode = Self.number(block[100..<108]), let uid = pax["uid"].flatMap({ Int64($0) }) ?? Self.number(block[108..<116]),
            let gid = pax["gid"].flatMap({ Int64($0) }) ?? Self.number(block[116..<124])
        else { return fail("an unreadable mode or owner at byte \(start)") }
        let kind = Self.kind(block[156])
        let stripped = name.count > 1 && name.hasSuffix("/") ? String(name.dropLast()) : name
        var header = TarMember(
            kind: kind, name: stripped, target: nil, mode: UInt32(truncatingIfNeeded: mode & 0o7777), uid: Int(uid), gid: Int(gid))
        switch kind {
        case .file, .other:
            members.append(Member(header: header, size: size, sha256: nil))
            content = .member(
                remaining: size, padding: padding, digest: kind == .file ? SHA256() : nil, keep: stripped == keeping ? [] : nil)
            if size == 0 { consumeEmpty() }
        default:
            guard size == 0 else { return fail("/\(stripped): a \(size)-byte member of a kind that has no content") }
            header.target = kind == .symlink || kind == .hardLink ? link : nil
            let linked = kind == .hardLink ? members.last { $0.header.name == link && $0.header.kind == .file } : nil
            members.append(Member(header: header, size: linked?.size ?? 0, sha256: linked?.sha256))
        }
    }

    /// A header whose content is empty is done at once.
    private func consumeEmpty() {
        let none = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        _ = consume(none[...])
    }

    private func extended(_ type: UInt8, _ bytes: [UInt8]) {
        switch type {
        case UInt8(ascii: "L"): extensions.longName = Self.text(bytes[...])
        case UInt8(ascii: "K"): extensions.longLink = Self.text(bytes[...])
        default:
            guard let records = Self.paxRecords(bytes) else { return fail("an unreadable pax header before byte \(offset)") }
            if type == UInt8(ascii: "g") {
                global.merge(records) { _, new in new }
            } else {
                extensions.pax.merge(records) { _, new in new }
            }
        }
    }

    private func fail(_ why: String) {
        damage = why
    }

    /// `LENGTH KEY=VALUE\n` records, LENGTH counting the whole record; nil when one is malformed.
    static func paxRecords(_ bytes: [UInt8]) -> [String: String]? {
        var records: [String: String] = [:]
        var rest = bytes[...]
        while !rest.isEmpty {
            guard let space = rest.firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: rest[rest.startIndex..<space], as: UTF8.self)), length > space - rest.startIndex + 1,
                length <= rest.count, rest[rest.startIndex + length - 1] == UInt8(ascii: "\n")
            else { return nil }
            let record = rest[(space + 1)..<(rest.startIndex + length - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            records[String(decoding: record[..<equals], as: UTF8.self)] = String(decoding: record[(equals + 1)...], as: UTF8.self)
            rest = rest.dropFirst(length)
        }
        return records
    }

    /// A numeric field: octal digits (leading spaces, ended by a space or NUL), or GNU's base-256
    /// (first byte's top bit set, big-endian, 0xff first for a negative number).
    static func number(_ field: ArraySlice<UInt8>) -> Int64? {
        guard let first = field.first else { return nil }
        if first & 0x80 != 0 {
            var value: Int64 = first == 0xff ? -1 : Int64(first & 0x7f)
            for byte in field.dropFirst() {
                guard value.magnitude < (1 << 55) else { return nil }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        let digits = field.drop { $0 == UInt8(ascii: " ") }.prefix { $0 != 0 && $0 != UInt8(ascii: " ") }
        guard digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "7")).contains($0) }), digits.count <= 21 else { return nil }
        return digits.reduce(0) { $0 << 3 | Int64($1 - UInt8(ascii: "0")) }
    }

    /// The header's sum with its checksum field as spaces, unsigned and signed: tar accepts either.
    static func checksums(_ block: [UInt8]) -> [Int64] {
        var unsigned: Int64 = 8 * 32
        var signed: Int64 = 8 * 32
        block.withUnsafeBufferPointer { bytes in
            for index in 0..<bytes.count where !(148..<156).contains(index) {
                unsigned &+= Int64(bytes[index])
                signed &+= Int64(Int8(bitPattern: bytes[index]))
            }
        }
        return [unsigned, signed]
    }

    /// A NUL-ended field.
    static func text(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func kind(_ type: UInt8) -> TarMember.Kind {
        switch type {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): .file
        case UInt8(ascii: "1"): .hardLink
        case UInt8(ascii: "2"): .symlink
        case UInt8(ascii: "3"): .characterDevice
        case UInt8(ascii: "4"): .blockDevice
        case UInt8(ascii: "5"): .folder
        case UInt8(ascii: "6"): .fifo
        default: .other(Character(UnicodeScalar(type)))
        }
    }
}
