import FoundationEssentials

/// How the previous boot ended, where the host keeps it: pstore's records of the kernel log at a
/// panic or an oops, in /sys/fs/pstore (`dmesg-<backend>-<id>`, there until removed) or where
/// systemd-pstore moved them at this boot, /var/lib/systemd/pstore/<id>/dmesg.txt (the records
/// it archived at earlier boots are older than this boot, and are history).
enum PreviousBoot {
    static let folders = ["/sys/fs/pstore", "/var/lib/systemd/pstore"]

    /// A failed check naming the panic or oops line of the newest record; nil without one.
    static func panic(_ files: HostFiles, bootedAt: Date) -> Check? {
        var records: [(path: String, modified: Date)] = []
        for folder in folders {
            for entry in (try? files.entries(folder)) ?? [] {
                if entry.isRegularFile, entry.name.hasPrefix("dmesg") {
                    records.append((folder + "/" + entry.name, entry.modified))
                } else if !entry.isRegularFile, entry.modified >= bootedAt {
                    for inner in (try? files.entries(folder + "/" + entry.name)) ?? []
                    where inner.isRegularFile && inner.name.hasPrefix("dmesg") {
                        records.append((folder + "/" + entry.name + "/" + inner.name, inner.modified))
                    }
                }
            }
        }
        for record in records.sorted(by: { $0.modified > $1.modified }) {
            guard let text = files.read(record.path), let line = ending(text) else { continue }
            return Check(
                "previous boot", .failed,
                "ended in \(line.escapingControls) (\(record.path), \(Timestamp.format(record.modified, "%Y-%m-%d %H:%M %Z")))",
                next: "read the whole record (sudo cat \(record.path)); once understood, remove it so that the next panic is seen")
        }
        return nil
    }

    /// The line that says how the kernel died: a panic, else the first oops or BUG.
    static func ending(_ text: String) -> String? {
        // kmsg_dump writes each line as "<level>[seconds] message".
        let messages = text.split(whereSeparator: \.isNewline).compactMap { line in
            let bare = line.first == "<" ? line.drop { $0 != ">" }.dropFirst() : line
            return KernelMessage.printed(bare)?.text
        }
        if let panic = messages.first(where: { $0.hasPrefix("Kernel panic - not syncing") }) { return String(panic.prefix(200)) }
        let oops = messages.first { message in
            if let line = KernelPatterns.match(message), line.kind == .oops || line.kind == .softLockup || line.kind == .hardwareError {
                return true
            }
            return false
        }
        return oops.map { String($0.prefix(200)) }
    }
}
