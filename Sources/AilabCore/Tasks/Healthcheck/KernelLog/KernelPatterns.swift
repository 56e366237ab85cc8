#if canImport(Glibc)
    import Glibc
#endif

/// What the kernel complains about, as healthcheck names it (the `kind` label of the metrics).
package enum KernelEventKind: String, Sendable, Codable, CaseIterable {
    case filesystemReadOnly = "fs_readonly"
    case ioError = "io_error"
    case nvme
    case oomKill = "oom_kill"
    case hungTask = "hung_task"
    case softLockup = "soft_lockup"
    case rcuStall = "rcu_stall"
    case machineCheck = "machine_check"
    case nfs
    case aerCorrected = "aer_corrected"
    case aerUncorrected = "aer_uncorrected"
    case sxid
}

/// One kernel log line a pattern recognised.
struct KernelLine: Equatable, Sendable {
    var kind: KernelEventKind
    /// The device, process, CPU or server the line is about.
    var device: String
    var status: Status
    /// How many events the line reports (EDAC prints "4 CE"); usually 1.
    var count = 1
    /// The pid an OOM kill names, or the memory cgroup of its victim.
    var pid: String?
    var cgroup: String?
    /// An NFS server that answers again.
    var recovered = false
}

/// A line format the kernel prints, with what journalctl's `--grep` keeps it by and where the
/// format is documented or seen. The table is the one place these facts live.
struct KernelPattern: Sendable {
    let kind: KernelEventKind
    /// Literal text that every line `match` reads contains: a cheap test that passes the other
    /// lines by (most of a long log).
    let anchors: [String]
    /// A PCRE2 alternative for `journalctl --grep`; it must keep every line `match` reads.
    let grep: String
    let source: String
    let match: @Sendable (Substring) -> KernelLine?
}

enum KernelPatterns {
    /// Above this many I/O errors on one device in one boot, the device is failing, not flaky.
    static let ioErrorsFailed = 100

    static let all: [KernelPattern] = [
        KernelPattern(
            kind: .filesystemReadOnly, anchors: ["Remounting filesystem read-only", "Shutting down filesystem"],
            grep: "Remounting filesystem read-only|Shutting down filesystem",
            source: "fs/ext4/super.c ext4_handle_error; fs/xfs/xfs_fsops.c xfs_do_force_shutdown"
        ) { line in
            guard line.contains("Remounting filesystem read-only") || line.contains("Shutting down filesystem") else { return nil }
            return KernelLine(kind: .filesystemReadOnly, device: word(after: "(", in: line, until: ")") ?? "?", status: .failed)
        },
        KernelPattern(
            kind: .ioError, anchors: ["I/O error"], grep: "I/O error, dev |Buffer I/O error on dev",
            source: "block/blk-core.c blk_print_req_error; fs/buffer.c buffer_io_error"
        ) { line in
            if line.contains("I/O error, dev "), let device = word(after: "I/O error, dev ", in: line, until: ",") {
                return KernelLine(kind: .ioError, device: device, status: .warning)
            }
            guard let range = line.firstRange(of: "Buffer I/O error on dev") else { return nil }
            let rest = line[range.upperBound...].drop { $0 != " " }.dropFirst()
            return KernelLine(kind: .ioError, device: String(rest.prefix { $0 != "," && $0 != " " }), status: .warning)
        },
        KernelPattern(
            kind: .nvme, anchors: ["nvme nvme"], grep: "nvme nvme[0-9]+: ",
            source: "drivers/nvme/host/pci.c nvme_timeout, nvme_reset_work, nvme_remove_dead_ctrl"
        ) { line in
            guard let device = word(after: "nvme ", in: line, until: ":"), device.hasPrefix("nvme") else { return nil }
            if line.contains("Removing after probe failure") || line.contains("Disabling device after reset failure")
                || line.contains("Device not ready; aborting reset")
            {
                return KernelLine(kind: .nvme, device: device, status: .failed)
            }
            if line.contains(" timeout, ") || line.contains("controller is down") || line.contains("resetting controller") {
                return KernelLine(kind: .nvme, device: device, status: .warning)
            }
            return nil
        },
        KernelPattern(
            kind: .oomKill, anchors: ["Killed process ", "oom-kill:"], grep: "Killed process [0-9]+|oom-kill:",
            source: "mm/oom_kill.c __oom_kill_process, dump_oom_summary"
        ) { line in
            if let range = line.firstRange(of: "oom-kill:") {
                let fields = line[range.upperBound...].split(separator: ",")
                func field(_ name: String) -> String? {
                    fields.first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
                }
                guard let pid = field("pid") else { return nil }
                return KernelLine(
                    kind: .oomKill, device: field("task") ?? "?", status: .warning, count: 0, pid: pid,
                    cgroup: field("task_memcg"))
            }
            guard let range = line.firstRange(of: "Killed process ") else { return nil }
            let rest = line[range.upperBound...]
            let pid = String(rest.prefix { $0.isNumber })
            let name = word(after: "(", in: rest, until: ")") ?? "?"
            return pid.isEmpty ? nil : KernelLine(kind: .oomKill, device: name, status: .warning, pid: pid)
        },
        KernelPattern(
            kind: .hungTask, anchors: ["blocked for more than"], grep: "blocked for more than [0-9]+ seconds",
            source: "kernel/hung_task.c check_hung_task"
        ) { line in
            guard line.contains("blocked for more than"), let task = word(after: "INFO: task ", in: line, until: " ") else { return nil }
            // "kworker/1:2:10762": the name, without the pid after the last colon.
            let name = task.lastIndex(of: ":").map { String(task[..<$0]) } ?? task
            return KernelLine(kind: .hungTask, device: name, status: .warning)
        },
        KernelPattern(
            kind: .softLockup, anchors: ["soft lockup - CPU"], grep: "soft lockup - CPU",
            source: "kernel/watchdog.c watchdog_timer_fn"
        ) { line in
            guard line.contains("soft lockup - CPU") else { return nil }
            return KernelLine(kind: .softLockup, device: word(after: "soft lockup - ", in: line, until: " ") ?? "CPU", status: .warning)
        },
        KernelPattern(
            kind: .rcuStall, anchors: ["detected stall"], grep: "detected stalls? on CPU",
            source: "kernel/rcu/tree_stall.h print_other_cpu_stall, print_cpu_stall"
        ) { line in
            guard line.contains("detected stall on CPU") || line.contains("detected stalls on CPU") else { return nil }
            return KernelLine(kind: .rcuStall, device: word(after: "INFO: ", in: line, until: " ") ?? "rcu", status: .warning)
        },
        KernelPattern(
            kind: .machineCheck, anchors: ["mce: ", "EDAC MC"],
            grep: #"mce: \[Hardware Error\]: Machine check|mce: Uncorrected|EDAC MC[0-9]+: [0-9]+ (CE|UE) "#,
            source: "arch/x86/kernel/cpu/mce/core.c; drivers/edac/edac_mc.c edac_mc_handle_error"
        ) { line in
            if let range = line.firstRange(of: "EDAC MC") {
                let controller = "MC" + line[range.upperBound...].prefix { $0.isNumber }
                guard let colon = line[range.upperBound...].firstIndex(of: ":") else { return nil }
                let words = line[line.index(after: colon)...].split(separator: " ")
                guard words.count >= 2, let count = Int(words[0]), words[1] == "CE" || words[1] == "UE" else { return nil }
                return KernelLine(kind: .machineCheck, device: controller, status: words[1] == "UE" ? .failed : .warning, count: count)
            }
            if line.contains("mce: Uncorrected") { return KernelLine(kind: .machineCheck, device: "mce", status: .failed) }
            guard line.contains("Machine check events logged") else { return nil }
            return KernelLine(kind: .machineCheck, device: "mce", status: .warning)
        },
        KernelPattern(
            kind: .nfs, anchors: ["nfs: server "], grep: "nfs: server .* (not responding|OK)",
            source: "fs/nfs/client.c, net/sunrpc/clnt.c call_timeout, call_decode"
        ) { line in
            guard let server = word(after: "nfs: server ", in: line, until: " ") else { return nil }
            if line.contains(" not responding") { return KernelLine(kind: .nfs, device: server, status: .failed) }
            guard line.hasSuffix(" OK") || line.contains(" OK ") else { return nil }
            return KernelLine(kind: .nfs, device: server, status: .ok, count: 0, recovered: true)
        },
        aer(.aerUncorrected, "Uncorrect", .failed),
        aer(.aerCorrected, "Correct", .ok),
        KernelPattern(
            kind: .sxid, anchors: ["SXid ("], grep: #"SXid \("#,
            source: "NVIDIA Fabric Manager user guide, \"NVSwitch SXid errors\""
        ) { line in
            guard let pci = word(after: "SXid (PCI:", in: line, until: ")"), let range = line.firstRange(of: "): ") else { return nil }
            let fields = line[range.upperBound...].split(separator: ",").map { $0.trimmingPrefix(" ") }
            guard let code = fields.first.flatMap({ Int($0) }) else { return nil }
            let fatal = fields.count > 1 && fields[1].lowercased() == "fatal"
            return KernelLine(kind: .sxid, device: "\(code) \(pci)", status: fatal ? .failed : .warning)
        },
    ]

    /// The `--grep` pattern: the NVIDIA driver's lines and every pattern above.
    static var grep: String {
        (["NVRM: (Xid|GPU .*fallen off the bus)"] + all.map(\.grep)).joined(separator: "|")
    }

    /// Every anchor, the NVIDIA driver's included, as bytes.
    static let anchorBytes: [[UInt8]] = Array(Set(["NVRM: "] + all.flatMap(\.anchors))).map { Array($0.utf8) }

    /// Whether a line may be one that a pattern or the Xid reader reads: a byte search, so that
    /// a log of millions of lines costs little more than reading it.
    static func mayMatch(_ line: Substring) -> Bool {
        var line = line
        return line.withUTF8 { bytes in
            anchorBytes.contains { contains(bytes, $0) }
        }
    }

    /// memchr for the first byte, memcmp for the rest.
    private static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard let base = haystack.baseAddress, let head = needle.first, haystack.count >= needle.count else { return false }
        var start = base
        let end = base + (haystack.count - needle.count + 1)
        while start < end, let found = memchr(start, Int32(head), end - start) {
            let candidate = UnsafePointer(found.assumingMemoryBound(to: UInt8.self))
            let same = needle.withUnsafeBufferPointer { pointer in
                pointer.baseAddress.map { memcmp(candidate, $0, needle.count) == 0 } ?? false
            }
            if same { return true }
            start = candidate + 1
        }
        return false
    }

    static func match(_ line: Substring) -> KernelLine? {
        for pattern in all {
            if let found = pattern.match(line) { return found }
        }
        return nil
    }

    /// The text between `start` and the next `end`, or nil.
    static func word(after start: String, in line: Substring, until end: Character) -> String? {
        guard let range = line.firstRange(of: start) else { return nil }
        let value = line[range.upperBound...].prefix { $0 != end }
        return value.isEmpty ? nil : String(value)
    }

    /// "AER: Corrected …", "AER: Multiple Uncorrected …", "AER: Uncorrectable … message received …".
    private static func aer(_ kind: KernelEventKind, _ severity: String, _ status: Status) -> KernelPattern {
        KernelPattern(
            kind: kind, anchors: ["AER: "], grep: "AER: (Multiple )?\(severity)",
            source: "drivers/pci/pcie/aer.c aer_isr_one_error, aer_print_port_info"
        ) { line in
            guard line.contains("AER: \(severity)") || line.contains("AER: Multiple \(severity)") else { return nil }
            return KernelLine(kind: kind, device: aerDevice(line), status: status)
        }
    }

    /// The device an AER message is about: "received: 0000:00:1c.5", "received from 0000:80:1b.4",
    /// else the port that printed it.
    private static func aerDevice(_ line: Substring) -> String {
        for marker in ["received from ", "received: "] {
            if let device = word(after: marker, in: line, until: " "), device.contains(":"), !device.hasPrefix("id=") { return device }
        }
        let words = line.split(separator: " ")
        return words.first { $0.hasSuffix(":") && $0.filter { $0 == ":" }.count == 3 }.map { String($0.dropLast()) } ?? "pcie"
    }
}
