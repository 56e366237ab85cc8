import FoundationEssentials

/// One filesystem as `df -P -T` reports it, in bytes.
package struct BlockUsage: Sendable, Equatable, Codable {
    package var source: String
    package var type: String
    package var mountPoint: String
    package var sizeBytes: Int64
    package var usedBytes: Int64
    package var availableBytes: Int64
    package var usedPercent: Int
}

/// One filesystem as `df -P -T -i` reports it. Filesystems without fixed inode tables
/// (btrfs, vfat) report no percentage.
package struct InodeUsage: Sendable, Equatable, Codable {
    package var source: String
    package var type: String
    package var mountPoint: String
    package var inodes: Int64
    package var used: Int64
    package var free: Int64
    package var usedPercent: Int?
}

/// Parsers for GNU df in POSIX output format with the type column (`df -P -T`, `df -P -T -i`).
package enum DiskFree {
    package static let blocksArguments = ["-P", "-T"]
    package static let inodesArguments = ["-P", "-T", "-i"]

    /// The Available column of `df -P -B1 PATH` (one filesystem, in bytes); nil when it has none.
    package static func availableBytes(_ output: String) -> Int64? {
        guard let line = output.split(whereSeparator: \.isNewline).dropFirst().first else { return nil }
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        return fields.count >= 4 ? Int64(fields[3]) : nil
    }

    package static func parseBlocks(_ output: String) throws -> [BlockUsage] {
        try rows(output, header: "1024-blocks").map { row in
            BlockUsage(
                source: row.source, type: row.type, mountPoint: row.mountPoint,
                sizeBytes: row.numbers[0] * 1024, usedBytes: row.numbers[1] * 1024,
                availableBytes: row.numbers[2] * 1024,
                usedPercent: try row.percent ?? { throw ParseError("df", "no use% for \(row.mountPoint)") }())
        }
    }

    package static func parseInodes(_ output: String) throws -> [InodeUsage] {
        try rows(output, header: "Inodes").map { row in
            InodeUsage(
                source: row.source, type: row.type, mountPoint: row.mountPoint,
                inodes: row.numbers[0], used: row.numbers[1], free: row.numbers[2], usedPercent: row.percent)
        }
    }

    private struct Row {
        var source: String
        var type: String
        var numbers: [Int64]
        var percent: Int?
        var mountPoint: String
    }

    private static func rows(_ output: String, header: String) throws -> [Row] {
        let lines = output.split(whereSeparator: \.isNewline).map(String.init)
        guard let first = lines.first, first.hasPrefix("Filesystem"), first.contains(header) else {
            throw ParseError("df", "unexpected header: \(lines.first ?? "(no output)")")
        }
        return try lines.dropFirst().map { line in
            // Columns are blank-separated; only the mount point (last) may hold blanks.
            let fields = line.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: true).map(String.init)
            guard fields.count == 7 else { throw ParseError("df", "cannot read line: \(line)") }
            let numbers = fields[2...4].map { Int64($0) ?? (($0 == "-") ? 0 : -1) }
            guard !numbers.contains(-1) else { throw ParseError("df", "not a number in line: \(line)") }
            var percent: Int?
            if fields[5] != "-" {
                guard fields[5].hasSuffix("%"), let value = Int(fields[5].dropLast()) else {
                    throw ParseError("df", "bad use% in line: \(line)")
                }
                percent = value
            }
            return Row(
                source: fields[0], type: fields[1], numbers: numbers, percent: percent,
                mountPoint: fields[6].trimmed(where: \.isBlank))
        }
    }

    /// Pseudo and read-only image filesystems are never checked: their use% says nothing
    /// about space. Snap mounts are squashfs loop devices and always show 100%.
    package static let uncheckedTypes: Set<String> = [
        "tmpfs", "devtmpfs", "ramfs", "squashfs", "overlay", "proc", "sysfs", "devpts", "cgroup", "cgroup2",
        "securityfs", "debugfs", "tracefs", "configfs", "fusectl", "pstore", "bpf", "mqueue", "hugetlbfs",
        "autofs", "efivarfs", "binfmt_misc", "nsfs", "rpc_pipefs", "nfsd", "iso9660", "udf", "erofs", "cramfs",
        "fuse.snapfuse", "fuse.lxcfs", "fuse.gvfsd-fuse", "fuse.portal", "none",
    ]

    package static func isChecked(type: String) -> Bool {
        !uncheckedTypes.contains(type)
    }
}
