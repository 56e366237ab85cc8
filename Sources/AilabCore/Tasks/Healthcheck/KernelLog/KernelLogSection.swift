/// The kernel's own complaints this boot, from the shared read of its log: filesystems gone
/// read-only or in error, failing disks and NVMe controllers, OOM kills, hung tasks and lockups,
/// oopses, machine checks and fatal firmware-reported errors, NFS servers gone quiet, PCIe
/// errors, NVSwitch SXids, leaked network devices, overlayfs errors and a full conntrack table.
/// One check per kind and device; and a panic that ended the previous boot, where pstore kept it.
struct KernelLogSection: HealthSection {
    let title = "kernel"

    func findings(from probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        switch try await probe.kernelLog.outcome(probe) {
        case .needsRoot:
            findings.add(Check.needsRoot("kernel log"))
        case .noTool:
            findings.add("kernel log", .absent, "neither journalctl nor dmesg is installed to read the kernel log")
        case .unreadable(let reason):
            findings.add("kernel log", .warning, reason, next: "read the kernel log by hand: sudo journalctl -k -b -p warning")
        case .read(let read):
            // A hung or locked-up process still running names its container through its cgroup.
            let entries = read.events.all.map { entry in
                var entry = entry
                for pid in entry.pids {
                    let cgroup = probe.files.read("/proc/\(pid)/cgroup")?.split(separator: "\n").map(String.init)
                        .first { ContainerCgroup.id($0) != nil }
                    if let cgroup, !entry.cgroups.contains(cgroup) { entry.cgroups.append(cgroup) }
                }
                return entry
            }
            async let named = containerNames(entries.flatMap(\.cgroups).compactMap(ContainerCgroup.id), probe)
            async let owned = layerOwners(entries, probe)
            let (containers, layers) = try await (named, owned)
            findings.events = []
            for entry in entries {
                var check = Self.check(entry, containers: containers)
                if entry.kind == .overlayfs, let owner = layers[entry.device] { check.detail += "; the layer of container \(owner)" }
                findings.add(check)
                findings.events?.append(
                    LoggedEvent(
                        kind: entry.kind.rawValue, device: entry.device, count: entry.count, status: check.status, check: check.name,
                        hardware: check.status == .failed && Self.hardware.contains(entry.kind)))
                findings.metrics.append(
                    MetricSample(
                        "ailab_kernel_events_total", "Kernel log events of this boot, by kind and device.",
                        labels: ["kind": entry.kind.rawValue, "device": entry.device],
                        value: Double(entry.count), isCounter: true))
            }
            for (kind, merged) in read.events.merged.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                findings.add(
                    "\(Self.name(kind)) (more devices)", merged.status == .failed ? .failed : .warning,
                    "\(merged.count) more event(s) on devices beyond the first \(KernelEvents.devicesPerKind), counted together "
                        + "(the least severe merged first; failed ones keep their own line)",
                    next: "read them by hand: sudo journalctl -k -b --grep '\(KernelPatterns.all.first { $0.kind == kind }?.grep ?? "")'")
            }
            if entries.isEmpty && read.events.merged.isEmpty {
                findings.add("kernel log", .ok, "no complaints this boot (\(read.source), \(read.lines) line(s) read)")
            }
            findings.set("kernelEvents", entries)
        }
        if let panic = PreviousBoot.panic(probe.files, bootedAt: probe.run.now.addingTimeInterval(-(probe.uptime ?? 0))) {
            findings.add(panic)
        }
        return findings
    }

    /// Faults of the hardware when failed: a fatal SXid, an uncorrected memory or PCIe error.
    static let hardware: Set<KernelEventKind> = [.sxid, .machineCheck, .aerUncorrected, .hardwareError]

    static func name(_ kind: KernelEventKind) -> String {
        switch kind {
        case .filesystemReadOnly: "read-only fs"
        case .ioError: "I/O errors"
        case .nvme: "nvme"
        case .oomKill: "OOM kill"
        case .hungTask: "hung task"
        case .softLockup: "soft lockup"
        case .rcuStall: "RCU stall"
        case .machineCheck: "machine check"
        case .nfs: "NFS server"
        case .aerCorrected: "PCIe corrected"
        case .aerUncorrected: "PCIe uncorrected"
        case .sxid: "sxid"
        case .filesystemError: "fs error"
        case .oops: "oops"
        case .hardwareError: "hardware error"
        case .netdevRefcount: "unregister_netdevice"
        case .overlayfs: "overlayfs"
        case .conntrackFull: "conntrack"
        }
    }

    static func check(_ entry: KernelEvents.Entry, containers: [String: String]) -> Check {
        let status = KernelEvents.status(entry)
        var detail = "\(entry.count)×"
        if let first = entry.first, let last = entry.last { detail += first == last ? " at \(first)" : ", first \(first), last \(last)" }
        let names = entry.cgroups.map { cgroup in
            ContainerCgroup.id(cgroup).map { containers[$0] ?? "container \($0.prefix(12))" } ?? cgroup
        }
        if !entry.pids.isEmpty { detail += "; pid " + entry.pids.joined(separator: ", ") }
        if !entry.cpus.isEmpty { detail += " on " + entry.cpus.joined(separator: ", ") }
        if !names.isEmpty { detail += "; in " + names.joined(separator: ", ") }
        if entry.kind == .nfs { detail += entry.recovered ? "; answered again since" : "; not answering since the last one" }
        return Check("\(name(entry.kind)) \(entry.device)", status, detail, next: nextStep(entry, status))
    }

    static func nextStep(_ entry: KernelEvents.Entry, _ status: Status) -> String? {
        let device = entry.device
        switch entry.kind {
        case .filesystemReadOnly:
            return "check the disk under \(device) (sudo smartctl -a), repair it unmounted (fsck or xfs_repair), then remount"
        case .ioError: return "check the device and its cabling: sudo smartctl -a /dev/\(device); copy its data off if errors grow"
        case .nvme:
            return status == .failed
                ? "the controller is gone until a reboot or reseat; replace \(device) if it happens again"
                : "update \(device)'s firmware; if it repeats, try nvme_core.default_ps_max_latency_us=0"
        case .oomKill: return "raise the job's or container's memory limit, or find what grew: sudo journalctl -k -b --grep oom"
        case .hungTask, .softLockup, .rcuStall:
            return "read the stack trace that follows it: sudo journalctl -k -b | grep -A 20 '\(device)'"
        case .machineCheck:
            return status == .failed
                ? "replace the memory or CPU it names; expect crashes until then"
                : "watch the counts (rasdaemon: ras-mc-ctl --error-count); replace the DIMM if they grow"
        case .nfs: return "check the server and the network path to it: rpcinfo -p \(device)"
        case .aerCorrected: return nil
        case .aerUncorrected: return "reseat or replace the device at \(device) (lspci -vvv -s \(device)); check its slot and riser"
        case .sxid:
            return status == .failed
                ? "drain the host, then reset the NVSwitch and its GPUs or reboot; open a case with NVIDIA if it repeats"
                : "watch it; repeated non-fatal SXids on one link mean a bad link"
        case .filesystemError:
            return "unmount \(device) and repair it (sudo e2fsck -f /dev/\(device)) at the next window; check the disk under it first"
        case .oops:
            return status == .failed
                ? "drain the host and reboot it; read the trace first (sudo journalctl -k -b | grep -A 40 '\(device)')"
                : "read the report and its trace (sudo journalctl -k -b --grep 'BUG: '); update the kernel or the module it names"
        case .hardwareError:
            return "read the records after it (sudo journalctl -k -b --grep 'Hardware Error') and the BMC's event log"
        case .netdevRefcount:
            return "something still holds \(device) (often a container's leaked network namespace); the host may need a reboot to free it"
        case .overlayfs:
            return "check the container's layer under /var/lib/docker/overlay2; recreate the container if its layer is damaged"
        case .conntrackFull:
            return "packets are being dropped: raise net.netfilter.nf_conntrack_max, or find what opens so many connections (conntrack -C)"
        }
    }

    /// overlay2 layers the overlayfs lines name ("layer 3f2a…") → the container whose layer it is,
    /// from each container's GraphDriver directories; asked only when such a line came.
    private func layerOwners(_ entries: [KernelEvents.Entry], _ probe: SectionContext) async throws -> [String: String] {
        guard entries.contains(where: { $0.kind == .overlayfs && $0.device.hasPrefix("layer ") }), probe.has("docker") else { return [:] }
        let ids = try await probe.call("docker", ["ps", "-aq", "--no-trunc"])
        let all = ids.stdout.split(whereSeparator: \.isNewline).map(String.init)
        guard ids.succeeded, !all.isEmpty else { return [:] }
        let format = "{{.Name}} {{.GraphDriver.Data.UpperDir}} {{.GraphDriver.Data.LowerDir}}"
        let inspected = try await probe.call("docker", ["inspect", "--format", format] + all)
        var owners: [String: String] = [:]
        for line in inspected.stdout.split(whereSeparator: \.isNewline) {
            let words = line.split(separator: " ", maxSplits: 1)
            guard words.count == 2 else { continue }
            // The container's own layers: its upper layer, and the "-init" one first in its lower dirs.
            for path in words[1].split(whereSeparator: { $0 == " " || $0 == ":" }).prefix(2) {
                if let layer = KernelPatterns.OverlayLayer.name(in: path) { owners[layer] = String(words[0].drop { $0 == "/" }) }
            }
        }
        return owners
    }

    /// Container ids → names, in one `docker inspect` where Docker answers; empty otherwise.
    private func containerNames(_ ids: [String], _ probe: SectionContext) async throws -> [String: String] {
        guard !ids.isEmpty, probe.has("docker") else { return [:] }
        let unique = Array(Set(ids)).sorted()
        let result = try await probe.call("docker", ["inspect", "--format", "{{.Id}} {{.Name}}"] + unique)
        // Exit 1 when some container is gone; the others are still printed.
        return Dictionary(
            result.stdout.split(whereSeparator: \.isNewline).compactMap { line in
                let parts = line.split(separator: " ", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1].drop { $0 == "/" })) : nil
            }, uniquingKeysWith: { first, _ in first })
    }
}
