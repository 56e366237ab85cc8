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
    case filesystemError = "fs_error"
    case oops
    case hardwareError = "hardware_error"
    case netdevRefcount = "netdev_refcount"
    case overlayfs
    case conntrackFull = "conntrack_full"
}

/// One kernel log line a pattern recognised.
struct KernelLine: Equatable, Sendable {
    var kind: KernelEventKind
    /// The device, process, CPU or server the line is about.
    var device: String
    var status: Status
    /// How many events the line reports (EDAC prints "4 CE"); usually 1.
    var count = 1
    /// The pid an OOM kill, a hung task or a soft lockup names, or the memory cgroup of an OOM
    /// kill's victim.
    var pid: String?
    var cgroup: String?
    /// The CPU a soft lockup held ("CPU#3").
    var cpu: String?
    /// An NFS server that answers again.
    var recovered = false
    /// AER's per-device "PCIe Bus Error: severity=…" line, which follows the "error received"
    /// line of the same event: counted only when it comes alone (firmware-first reporting).
    var busError = false
}

/// A line format the kernel prints, with what journalctl's `--grep` keeps it by and where the
/// format is documented or seen. The table is the one place these facts live.
struct KernelPattern: Sendable {
    let kind: KernelEventKind
    /// Literal text that every line `match` reads contains: a cheap test that passes the other
    /// lines by (most of a long log). Each starts with a byte that is rare in a log, where it can:
    /// the search looks for that byte first.
    let anchors: [String]
    /// A PCRE2 alternative for `journalctl --grep`; it must keep every line `match` reads.
    let grep: String
    let source: String
    let match: @Sendable (Substring) -> KernelLine?
}

enum KernelPatterns {
    /// Above this many I/O errors on one device in one boot, the device is failing, not flaky.
    static let ioErrorsFailed = 100

    /// Each matcher reads a message from its start, in the kernel's own format (a driver's
    /// `XFS (dm-0): ` prefix, a subsystem's `watchdog: `): text that a user chose, such as the
    /// process and file names a segfault report carries, never starts one.
    static let all: [KernelPattern] = [
        KernelPattern(
            kind: .filesystemReadOnly, anchors: ["Remounting filesystem read-only", "Shutting down filesystem", "forced readonly"],
            grep: "Remounting filesystem read-only|Shutting down filesystem|forced readonly",
            source: "fs/ext4/super.c ext4_handle_error (4.19-6.12); fs/xfs/xfs_fsops.c xfs_do_force_shutdown; fs/btrfs/messages.c"
        ) { text in
            if let (device, rest) = prefixed(text, "EXT4-fs ("), rest.hasPrefix("Remounting filesystem read-only") {
                return KernelLine(kind: .filesystemReadOnly, device: device, status: .failed)
            }
            if let (device, rest) = prefixed(text, "XFS ("),
                rest.trimmed().hasSuffix("Shutting down filesystem") || rest.hasSuffix("Shutting down filesystem.")
            {
                return KernelLine(kind: .filesystemReadOnly, device: device, status: .failed)
            }
            guard text.hasPrefix("BTRFS "), text.hasSuffix("forced readonly"), let device = word(after: "(device ", in: text, until: ")")
            else {
                return nil
            }
            return KernelLine(kind: .filesystemReadOnly, device: device, status: .failed)
        },
        KernelPattern(
            kind: .ioError,
            anchors: [" error, dev ", "I/O error"],
            grep: " error, dev [^ ,]+, sector|Buffer I/O error on dev|I/O error while writing superblock|metadata I/O error",
            source:
                "block/blk-core.c blk_print_req_error and blk_errors (5.3-6.12), print_req_error (4.19-5.2); fs/buffer.c buffer_io_error; "
                + "fs/ext4/super.c ext4_commit_super (4.19-6.12); fs/xfs/xfs_buf.c xfs_buf_ioerror_alert ('metadata I/O error in', "
                + "5.x-6.12; 'metadata I/O error: block', 4.19)"
        ) { text in
            var rest = text
            for prefix in ["blk_update_request: ", "print_req_error: "] where rest.hasPrefix(prefix) { rest = rest.dropFirst(prefix.count) }
            if let marker = rest.firstRange(of: " error, dev "), blockErrors.contains(String(rest[..<marker.lowerBound])) {
                let device = rest[marker.upperBound...].prefix { $0 != "," && $0 != " " }
                return device.isEmpty ? nil : KernelLine(kind: .ioError, device: String(device), status: .warning)
            }
            // A filesystem's own account of a failed write or read of its metadata.
            if let (device, rest) = prefixed(text, "EXT4-fs ("), rest.hasPrefix("I/O error while writing superblock") {
                return KernelLine(kind: .ioError, device: device, status: .warning)
            }
            if let (device, rest) = prefixed(text, "XFS ("), rest.hasPrefix("metadata I/O error") {
                return KernelLine(kind: .ioError, device: device, status: .warning)
            }
            // "on device" before 4.0 (fs/buffer.c), "on dev" since.
            guard let marker = ["Buffer I/O error on dev ", "Buffer I/O error on device "].first(where: { text.hasPrefix($0) }) else {
                return nil
            }
            let device = text.dropFirst(marker.count).prefix { $0 != "," && $0 != " " }
            return device.isEmpty ? nil : KernelLine(kind: .ioError, device: String(device), status: .warning)
        },
        KernelPattern(
            kind: .nvme, anchors: ["nvme nvme", "- failing I/O", "- requeuing I/O", "(sct 0x"],
            grep: #"nvme nvme[0-9]+: |path.* - (failing|requeuing) I/O|\(sct 0x[0-9a-f]+ / sc 0x"#,
            source:
                "drivers/nvme/host/pci.c nvme_timeout, nvme_reset_work, nvme_remove_dead_ctrl (4.19-6.12); "
                + "drivers/nvme/host/multipath.c nvme_ns_head_submit_bio ('no path - failing', 'no path available - requeuing', "
                + "4.19; 'no available path - failing', 'no usable path - requeuing', 5.x-6.12); "
                + "drivers/nvme/host/core.c nvme_log_error and nvme_log_err_passthru (5.19-6.12)"
        ) { text in
            // Multipath: no controller left to send the namespace's I/O to ("block nvme0n1: "); it
            // fails the I/O, or holds it while a path may come back.
            if text.hasPrefix("block nvme"), let colon = text.firstIndex(of: ":") {
                let rest = text[colon...].dropFirst().drop { $0 == " " }
                let device = String(text[text.index(text.startIndex, offsetBy: 6)..<colon])
                if ["no available path - failing I/O", "no path - failing I/O"].contains(where: { rest.hasPrefix($0) }) {
                    return KernelLine(kind: .nvme, device: device, status: .failed)
                }
                let queued = ["no usable path - requeuing I/O", "no path available - requeuing I/O"].contains { rest.hasPrefix($0) }
                return queued ? KernelLine(kind: .nvme, device: device, status: .warning) : nil
            }
            // One failed command: "nvme0n1: Read(0x2) @ LBA 2048, 8 blocks, Unrecovered Read Error (sct 0x2 / sc 0x81) DNR".
            if let colon = text.firstIndex(of: ":"), text.hasPrefix("nvme"), !text.hasPrefix("nvme nvme"),
                text[..<colon].dropFirst(4).allSatisfy({ $0.isNumber || $0 == "n" || $0 == "c" }), text.contains(" (sct 0x"),
                text.contains(" / sc 0x")
            {
                return KernelLine(kind: .nvme, device: String(text[..<colon]), status: .warning)
            }
            guard text.hasPrefix("nvme nvme"), let colon = text.firstIndex(of: ":") else { return nil }
            let device = String(text[text.index(text.startIndex, offsetBy: 5)..<colon])
            let rest = text[colon...].dropFirst().drop { $0 == " " }
            guard device.dropFirst(4).allSatisfy(\.isNumber), !device.dropFirst(4).isEmpty else { return nil }
            if rest.hasPrefix("Removing after probe failure") || rest.hasPrefix("Disabling device after reset failure")
                || rest.hasPrefix("Device not ready; aborting reset")
            {
                return KernelLine(kind: .nvme, device: device, status: .failed)
            }
            if (rest.hasPrefix("I/O ") && rest.contains(" QID ") && rest.contains(" timeout, ")) || rest.hasPrefix("controller is down")
                || rest.hasPrefix("resetting controller")
            {
                return KernelLine(kind: .nvme, device: device, status: .warning)
            }
            return nil
        },
        KernelPattern(
            kind: .oomKill, anchors: ["Killed process ", "Kill process ", "oom-kill:", "killed as a result of limit of "],
            grep: "Kill(ed)? process [0-9]+|oom-kill:| killed as a result of limit of ",
            source:
                "mm/oom_kill.c __oom_kill_process (5.x-6.12 'Killed process', 4.19 'Kill process … or sacrifice child'), dump_oom_summary; "
                + "mm/memcontrol.c mem_cgroup_print_oom_info ('Task in … killed as a result of limit of …', 4.19)"
        ) { text in
            // 4.19 names the victim's memory cgroup on a line of its own, before the kill.
            if text.hasPrefix("Task in "), let end = text.firstRange(of: " killed as a result of limit of ") {
                let cgroup = text[text.index(text.startIndex, offsetBy: 8)..<end.lowerBound]
                return cgroup.isEmpty ? nil : KernelLine(kind: .oomKill, device: "?", status: .warning, count: 0, cgroup: String(cgroup))
            }
            if text.hasPrefix("oom-kill:") {
                let fields = text.dropFirst("oom-kill:".count).split(separator: ",")
                func field(_ name: String) -> String? {
                    fields.first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
                }
                guard let pid = field("pid") else { return nil }
                return KernelLine(
                    kind: .oomKill, device: field("task") ?? "?", status: .warning, count: 0, pid: pid, cgroup: field("task_memcg"))
            }
            var rest = text
            for prefix in ["Out of memory: ", "Memory cgroup out of memory: "] where rest.hasPrefix(prefix) {
                rest = rest.dropFirst(prefix.count)
            }
            for verb in ["Killed process ", "Kill process "] where rest.hasPrefix(verb) {
                let after = rest.dropFirst(verb.count)
                let pid = String(after.prefix { $0.isNumber })
                let name = word(after: "(", in: after, until: ")") ?? "?"
                return pid.isEmpty ? nil : KernelLine(kind: .oomKill, device: name, status: .warning, pid: pid)
            }
            return nil
        },
        KernelPattern(
            kind: .hungTask, anchors: ["blocked for more than"], grep: "blocked for more than [0-9]+ seconds",
            source: "kernel/hung_task.c check_hung_task (4.19-6.12)"
        ) { text in
            guard text.hasPrefix("INFO: task "), let blocked = text.ranges(of: " blocked for more than ").last else { return nil }
            let task = text[text.index(text.startIndex, offsetBy: 11)..<blocked.lowerBound]
            // "kworker/1:2:10762": the name, and the pid after the last colon.
            guard let colon = task.lastIndex(of: ":") else {
                return task.isEmpty ? nil : KernelLine(kind: .hungTask, device: String(task), status: .warning)
            }
            let pid = task[task.index(after: colon)...]
            return colon == task.startIndex
                ? nil : KernelLine(kind: .hungTask, device: String(task[..<colon]), status: .warning, pid: pid.isEmpty ? nil : String(pid))
        },
        KernelPattern(
            kind: .softLockup, anchors: ["soft lockup - CPU"], grep: "soft lockup - CPU",
            source: "kernel/watchdog.c watchdog_timer_fn (4.19-6.12; 'watchdog: ' or 'NMI watchdog: ' before it)"
        ) { text in
            var rest = text
            for prefix in ["NMI watchdog: ", "watchdog: "] where rest.hasPrefix(prefix) { rest = rest.dropFirst(prefix.count) }
            guard rest.hasPrefix("BUG: soft lockup - CPU#") else { return nil }
            let cpu = word(after: "soft lockup - ", in: rest, until: " ") ?? "CPU"
            // "… stuck for 22s! [python3:2254956]": the task the watchdog caught on that CPU.
            guard let open = rest.lastIndex(of: "["), rest.hasSuffix("]") else {
                return KernelLine(kind: .softLockup, device: cpu, status: .warning, cpu: cpu)
            }
            let task = rest[rest.index(after: open)..<rest.index(before: rest.endIndex)]
            let colon = task.lastIndex(of: ":")
            return KernelLine(
                kind: .softLockup, device: colon.map { String(task[..<$0]) } ?? String(task), status: .warning,
                pid: colon.map { String(task[task.index(after: $0)...]) }, cpu: cpu)
        },
        KernelPattern(
            kind: .rcuStall, anchors: ["detected stall", "detected expedited stall", "self-detected stall"],
            grep: "(self-)?detected (expedited )?stalls? on CPU",
            source: "kernel/rcu/tree_stall.h print_other_cpu_stall, print_cpu_stall, synchronize_rcu_expedited_wait (4.19-6.12)"
        ) { text in
            var rest = text
            if rest.hasPrefix("rcu: ") { rest = rest.dropFirst(5) }
            guard rest.hasPrefix("INFO: ") else { return nil }
            let flavor = rest.dropFirst(6).prefix { $0 != " " }
            let after = rest.dropFirst(6 + flavor.count)
            let stall = [" detected stall", " self-detected stall", " detected expedited stall"].contains { after.hasPrefix($0) }
            return stall && !flavor.isEmpty ? KernelLine(kind: .rcuStall, device: String(flavor), status: .warning) : nil
        },
        KernelPattern(
            kind: .machineCheck, anchors: ["Hardware Error]", "mce: ", "EDAC "],
            grep:
                #"\[Hardware Error\]: (Machine check|CPU [0-9]+: Machine Check)|mce: Uncorrected|EDAC MC[0-9]+: [0-9]+ (CE|UE) |EDAC [a-z0-9_]+ MC[0-9]+: CPU [0-9]+: Machine Check"#,
            source:
                "arch/x86/kernel/cpu/mce/core.c print_mce, mce_panic (4.19-6.12; arch/x86/kernel/cpu/mcheck/ before 5.1); "
                + "drivers/edac/edac_mc.c edac_mc_handle_error; drivers/edac/sb_edac.c, skx_common.c, i10nm ('CPU %d: Machine Check %s')"
        ) { text in
            // A chipset driver's copy of the MCE: "EDAC sbridge MC3: CPU 0: Machine Check Event: 0 Bank 7: …".
            if text.hasPrefix("EDAC "), !text.hasPrefix("EDAC MC"), let range = text.firstRange(of: ": CPU "),
                let machine = text[range.upperBound...].firstRange(of: ": Machine Check ")
            {
                let chip = text[text.index(text.startIndex, offsetBy: 5)..<range.lowerBound]
                let controller = chip.split(separator: " ").last.map(String.init) ?? "MC"
                let exception = text[machine.upperBound...].hasPrefix("Exception")
                return KernelLine(kind: .machineCheck, device: controller, status: exception ? .failed : .warning)
            }
            if text.hasPrefix("EDAC MC") {
                let controller = "MC" + text.dropFirst(7).prefix { $0.isNumber }
                guard let colon = text.firstIndex(of: ":") else { return nil }
                let words = text[text.index(after: colon)...].split(separator: " ")
                guard words.count >= 2, let count = Int(words[0]), words[1] == "CE" || words[1] == "UE" else { return nil }
                return KernelLine(kind: .machineCheck, device: controller, status: words[1] == "UE" ? .failed : .warning, count: count)
            }
            var rest = text
            if rest.hasPrefix("mce: ") { rest = rest.dropFirst(5) }
            if rest.hasPrefix("Uncorrected hardware memory error") {
                return KernelLine(kind: .machineCheck, device: "mce", status: .failed)
            }
            // print_mce: "[Hardware Error]: CPU 2: Machine Check: 0 Bank 5: be00000000800400", and
            // "Machine Check Exception:" for one that stops the machine.
            if rest.hasPrefix("[Hardware Error]: CPU "), let machine = rest.firstRange(of: ": Machine Check") {
                let cpu = rest[..<machine.lowerBound].dropFirst("[Hardware Error]: ".count)
                guard cpu.dropFirst(4).allSatisfy(\.isNumber) else { return nil }
                let exception = rest[machine.upperBound...].hasPrefix(" Exception")
                return KernelLine(kind: .machineCheck, device: String(cpu), status: exception ? .failed : .warning)
            }
            guard rest.hasPrefix("[Hardware Error]: Machine check events logged") else { return nil }
            return KernelLine(kind: .machineCheck, device: "mce", status: .warning)
        },
        KernelPattern(
            kind: .nfs, anchors: ["nfs: server "], grep: "nfs: server .* (not responding|OK)",
            source: "fs/nfs/client.c, net/sunrpc/clnt.c call_timeout, call_decode (4.19-6.12)"
        ) { text in
            guard text.hasPrefix("nfs: server "), let server = word(after: "nfs: server ", in: text, until: " ") else { return nil }
            let rest = text.dropFirst("nfs: server ".count + server.count)
            if rest.hasPrefix(" not responding") { return KernelLine(kind: .nfs, device: server, status: .failed) }
            guard rest.hasPrefix(" OK") else { return nil }
            return KernelLine(kind: .nfs, device: server, status: .ok, count: 0, recovered: true)
        },
        aer(.aerUncorrected, "Uncorrect", .failed),
        aer(.aerCorrected, "Correct", .ok),
        KernelPattern(
            kind: .aerUncorrected, anchors: ["PCIe Bus Error: severity="], grep: "PCIe Bus Error: severity=",
            source: "drivers/pci/pcie/aer.c aer_print_error, cper_print_aer (4.19-6.12; 'AER: ' before it since 4.20's dev_fmt)"
        ) { text in
            let words = text.split(separator: " ", maxSplits: 2)
            guard words.count == 3, words[1].hasSuffix(":"), words[1].filter({ $0 == ":" }).count == 3 else { return nil }
            var rest = words[2]
            if rest.hasPrefix("AER: ") { rest = rest.dropFirst(5) }
            guard rest.hasPrefix("PCIe Bus Error: severity=") else { return nil }
            let severity = rest.dropFirst("PCIe Bus Error: severity=".count)
            let device = String(words[1].dropLast())
            if severity.hasPrefix("Correct") { return KernelLine(kind: .aerCorrected, device: device, status: .ok, busError: true) }
            guard severity.hasPrefix("Uncorrected") || severity.hasPrefix("Uncorrectable") else { return nil }
            return KernelLine(kind: .aerUncorrected, device: device, status: .failed, busError: true)
        },
        KernelPattern(
            kind: .sxid, anchors: ["SXid ("], grep: #"SXid \("#,
            source: "NVIDIA Fabric Manager user guide, \"NVSwitch SXid errors\""
        ) { text in
            guard text.hasPrefix("nvidia-nvswitch"), let range = text.firstRange(of: ": SXid (PCI:"),
                !text[..<range.lowerBound].contains(" "), let close = text[range.upperBound...].firstRange(of: "): ")
            else { return nil }
            let pci = text[range.upperBound..<close.lowerBound]
            let fields = text[close.upperBound...].split(separator: ",").map { $0.trimmingPrefix(" ") }
            guard let code = fields.first.flatMap({ Int($0) }) else { return nil }
            let fatal = fields.count > 1 && fields[1].lowercased() == "fatal"
            return KernelLine(kind: .sxid, device: "\(code) \(pci)", status: fatal ? .failed : .warning)
        },
        KernelPattern(
            kind: .filesystemError, anchors: ["EXT4-fs error (device "], grep: #"EXT4-fs error \(device "#,
            source: "fs/ext4/super.c __ext4_error, __ext4_error_inode, __ext4_error_file, __ext4_std_error (4.19-6.12)"
        ) { text in
            guard text.hasPrefix("EXT4-fs error (device "), let device = word(after: "(device ", in: text, until: ")") else {
                return nil
            }
            return KernelLine(kind: .filesystemError, device: device, status: .failed)
        },
        KernelPattern(
            kind: .oops, anchors: ["[#", "BUG: "],
            grep: #": [0-9a-f]{4,16} \[#[0-9]+\]|BUG: "#,
            source:
                "arch/x86/kernel/dumpstack.c __die ('%s: %04lx [#%d]', 4.19-6.12; 'Oops: ' before every kind since 6.11), "
                + "arch/arm64/kernel/traps.c __die ('Internal error: %s: %016lx [#%d]'); lib/bug.c report_bug ('kernel BUG at'); "
                + "'BUG: ' reports (mm/page_alloc.c bad_page, kernel/sched/core.c __schedule_bug, kernel/workqueue.c, mm/kasan)"
        ) { text in
            // The die line every oops prints once: "Oops: 0002 [#1] SMP PTI", "general protection fault, probably for
            // non-canonical address 0x…: 0000 [#1] PREEMPT SMP NOPTI", "invalid opcode: 0000 [#1] SMP".
            var rest = text
            if rest.hasPrefix("Internal error: ") { rest = rest.dropFirst("Internal error: ".count) }
            if let mark = rest.firstRange(of: " [#"), rest[mark.upperBound...].prefix(while: \.isNumber).count > 0,
                let colon = rest[..<mark.lowerBound].lastIndex(of: ":"),
                rest[rest.index(after: colon)..<mark.lowerBound].trimmed(where: \.isBlank).allSatisfy(\.isHexDigit)
            {
                var what = rest[..<colon]
                if what.hasPrefix("Oops: ") { what = what.dropFirst("Oops: ".count) }
                let kind = String(what.prefix { $0 != "," })
                guard kind.hasPrefix("Oops") || dieReasons.contains(kind) else { return nil }
                return KernelLine(kind: .oops, device: kind, status: .failed)
            }
            // The reports that print no die line: a bad page, sleeping in atomic context, a stuck workqueue.
            guard text.hasPrefix("BUG: ") else { return nil }
            let report = text.dropFirst(5)
            let oopsFollows = ["unable to handle", "kernel NULL pointer dereference", "soft lockup"]
            guard !oopsFollows.contains(where: { report.hasPrefix($0) }) else { return nil }
            // The report's kind, without what it names after it (a process, a function, a CPU).
            var kind = report.prefix { $0 != ":" && $0 != "(" && $0 != "," }
            for marker in [" in ", " at ", " on ", " - "] {
                if let range = kind.firstRange(of: marker) { kind = kind[..<range.lowerBound] }
            }
            let name = kind.trimmed(where: \.isBlank)
            guard !name.isEmpty, name.count <= 60 else { return nil }
            return KernelLine(kind: .oops, device: name, status: .warning)
        },
        KernelPattern(
            kind: .hardwareError, anchors: ["Hardware Error]"], grep: #"\[Hardware Error\]: event severity: fatal"#,
            source: "drivers/firmware/efi/cper.c cper_estatus_print ('%sevent severity: %s', {N}[Hardware Error]: from ghes.c; 4.19-6.12)"
        ) { text in
            var rest = text
            if rest.first == "{", let close = rest.firstIndex(of: "}") { rest = rest[rest.index(after: close)...].drop { $0 == " " } }
            guard rest.hasPrefix("[Hardware Error]: event severity: fatal") else { return nil }
            return KernelLine(kind: .hardwareError, device: "APEI", status: .failed)
        },
        KernelPattern(
            kind: .netdevRefcount, anchors: ["unregister_netdevice: waiting for "], grep: "unregister_netdevice: waiting for ",
            source: "net/core/dev.c netdev_wait_allrefs, netdev_wait_allrefs_any (4.19-6.12)"
        ) { text in
            guard text.hasPrefix("unregister_netdevice: waiting for "),
                let device = word(after: "unregister_netdevice: waiting for ", in: text, until: " ")
            else { return nil }
            return KernelLine(kind: .netdevRefcount, device: device, status: .warning)
        },
        KernelPattern(
            kind: .overlayfs, anchors: ["overlayfs: "],
            grep: "overlayfs: (failed|invalid|cannot|refusing|error|.* is in-use as upperdir/workdir)",
            source: "fs/overlayfs (pr_fmt 'overlayfs: '; pr_err and pr_warn_ratelimited of namei.c, util.c, super.c, copy_up.c, 4.19-6.12)"
        ) { text in
            guard text.hasPrefix("overlayfs: ") else { return nil }
            let rest = text.dropFirst("overlayfs: ".count)
            guard
                ["failed", "invalid", "cannot", "refusing", "error"].contains(where: { rest.hasPrefix($0) })
                    || rest.contains(" is in-use as upperdir/workdir")
            else { return nil }
            return KernelLine(kind: .overlayfs, device: KernelPatterns.OverlayLayer.name(in: rest) ?? "overlayfs", status: .warning)
        },
        KernelPattern(
            kind: .conntrackFull, anchors: ["table full, dropping packet"], grep: "nf_conntrack: table full, dropping packet",
            source: "net/netfilter/nf_conntrack_core.c __nf_conntrack_alloc ('nf_conntrack: nf_conntrack: ' with 5.x's pr_fmt, 4.19-6.12)"
        ) { text in
            var rest = text
            while rest.hasPrefix("nf_conntrack: ") { rest = rest.dropFirst("nf_conntrack: ".count) }
            return rest.hasPrefix("table full, dropping packet") && rest.count < text.count
                ? KernelLine(kind: .conntrackFull, device: "nf_conntrack", status: .warning) : nil
        },
    ]

    /// What x86's die() calls the traps it reports ("invalid opcode" is a `BUG()`), as
    /// arch/x86/kernel/traps.c names them; arm64's die lines all start with "Oops".
    static let dieReasons: Set<String> = [
        "general protection fault", "invalid opcode", "divide error", "double fault", "stack segment", "segment not present",
        "invalid TSS", "alignment check", "bounds", "overflow", "coprocessor segment overrun", "kernel stack overflow",
    ]

    /// The names blk_errors gives the block layer's errors, as `%s error, dev %s`.
    static let blockErrors: Set<String> = [
        "I/O", "timeout", "critical space allocation", "recoverable transport", "critical target", "critical nexus",
        "critical medium", "protection", "kernel resource", "device resource", "operation not supported", "zone resource",
        "zone open", "zone active", "offline",
    ]

    /// The Docker overlay2 layer a path names ("/var/lib/docker/overlay2/<id>/merged"): "layer <id>".
    enum OverlayLayer {
        static func name(in text: Substring) -> String? {
            guard let range = text.firstRange(of: "/overlay2/") else { return nil }
            let id = text[range.upperBound...].prefix { $0.isHexDigit }
            return id.count >= 12 ? "layer " + id.prefix(12) : nil
        }
    }

    /// `NAME (device): ` at the start of a message: the device and what follows.
    static func prefixed(_ text: Substring, _ opening: String) -> (String, Substring)? {
        guard text.hasPrefix(opening) else { return nil }
        let after = text.dropFirst(opening.count)
        guard let close = after.firstRange(of: "): ") else { return nil }
        let device = after[..<close.lowerBound]
        return device.isEmpty || device.contains(" ") ? nil : (String(device), after[close.upperBound...])
    }

    /// The `--grep` pattern: the NVIDIA driver's lines and every pattern above.
    static var grep: String {
        (["NVRM: (Xid|GPU .*fallen off the bus)"] + all.map(\.grep)).joined(separator: "|")
    }

    /// Every anchor, the NVIDIA driver's included, as bytes, grouped by their first byte.
    static let anchorsByFirstByte: [[[UInt8]]] = {
        var table = [[[UInt8]]](repeating: [], count: 256)
        for anchor in Set(["NVRM: "] + all.flatMap(\.anchors)) {
            let bytes = Array(anchor.utf8)
            table[Int(bytes[0])].append(bytes)
        }
        return table
    }()

    /// Whether a line may be one that a pattern or the Xid reader reads: one pass over its bytes,
    /// comparing an anchor only where its first byte stands, so that a log of millions of lines
    /// costs little more than reading it, however many patterns there are.
    static func mayMatch(_ line: Substring) -> Bool {
        var line = line
        return line.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return false }
            return anchorsByFirstByte.withUnsafeBufferPointer { table in
                for index in 0..<bytes.count {
                    for anchor in table[Int(bytes[index])] where anchor.count <= bytes.count - index {
                        let same = anchor.withUnsafeBufferPointer { pointer in
                            pointer.baseAddress.map { memcmp(base + index, $0, anchor.count) == 0 } ?? false
                        }
                        if same { return true }
                    }
                }
                return false
            }
        }
    }

    /// The pattern a message matches; a user process's fault report (`name[pid]: segfault at …`,
    /// `traps: name[pid] …`), whose name and file name a user chooses, matches none.
    static func match(_ text: Substring) -> KernelLine? {
        if faultReportMarkers.contains(where: { text.contains($0) }) { return nil }
        for pattern in all {
            if let found = pattern.match(text) { return found }
        }
        return nil
    }

    /// arch/x86/mm/fault.c show_signal_msg, arch/x86/kernel/traps.c do_trap and show_signal, arm64's
    /// "unhandled" reports: the process name comes first, the mapped file's name after " in ".
    static let faultReportMarkers = ["]: segfault at ", "] trap ", "] general protection fault", "]: unhandled ", "] int3 "]

    /// The text between `start` and the next `end`, or nil.
    static func word(after start: String, in line: Substring, until end: Character) -> String? {
        guard let range = line.firstRange(of: start) else { return nil }
        let value = line[range.upperBound...].prefix { $0 != end }
        return value.isEmpty ? nil : String(value)
    }

    /// "AER: Corrected …", "AER: Multiple Uncorrected …", "AER: Uncorrectable … message received …",
    /// after the port's own `pcieport 0000:00:1c.5: ` (or alone, as 4.19's aer_print_port_info).
    private static func aer(_ kind: KernelEventKind, _ severity: String, _ status: Status) -> KernelPattern {
        KernelPattern(
            kind: kind, anchors: ["AER: "], grep: "AER: (Multiple )?\(severity)",
            source: "drivers/pci/pcie/aer.c aer_isr_one_error, aer_print_port_info (4.19-6.12)"
        ) { text in
            var rest = text
            let words = text.split(separator: " ", maxSplits: 2)
            if words.count == 3, words[1].hasSuffix(":"), words[1].filter({ $0 == ":" }).count == 3 { rest = words[2] }
            guard rest.hasPrefix("AER: \(severity)") || rest.hasPrefix("AER: Multiple \(severity)") else { return nil }
            return KernelLine(kind: kind, device: aerDevice(text), status: status)
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
