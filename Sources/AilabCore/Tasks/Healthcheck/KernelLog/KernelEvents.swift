/// What the kernel log of this boot holds, per kind and device, as it is read: counts, first and
/// last time, the worst line. Memory grows with the devices named, never with the log: past
/// `devicesPerKind` devices of a kind, the least severe entry (then the least counted, then the
/// oldest) is merged into that kind's "more devices" count, which keeps the worst status it took
/// in. A failed entry is never merged, up to `failedPerKind`.
package struct KernelEvents: Sendable {
    package struct Entry: Sendable, Equatable, Encodable {
        package var kind: KernelEventKind
        package var device: String
        package var count: Int
        package var first: String?
        package var last: String?
        package var status: Status
        /// OOM kills: the memory cgroups (containers) their victims ran in.
        package var cgroups: [String]
        /// Hung tasks and soft lockups: the pids the kernel named, and the CPUs a lockup held.
        package var pids: [String]
        package var cpus: [String]
        /// NFS: the server answered again after its last "not responding".
        package var recovered: Bool
    }

    /// Events merged out of their own entry, per kind: how many, and the worst status among them.
    package struct Merged: Sendable, Equatable {
        package var count = 0
        package var status = Status.ok
    }

    static let devicesPerKind = 64
    static let failedPerKind = 1024
    private var order: [String] = []
    private var entries: [String: Entry] = [:]
    private var devices: [KernelEventKind: Int] = [:]
    package private(set) var merged: [KernelEventKind: Merged] = [:]
    /// OOM kills: pid → the victim's memory cgroup, from the summary line printed before the kill.
    private var cgroupOfPid: [String: String] = [:]
    /// 4.19's "Task in <cgroup> killed as a result of limit of …", for the kill line after it.
    private var nextVictimCgroup: String?

    package init() {}

    mutating func add(_ line: KernelLine, time: String?) {
        if line.kind == .oomKill, let cgroup = line.cgroup {
            if let pid = line.pid {
                if cgroupOfPid.count < 1024 { cgroupOfPid[pid] = cgroup }
            } else {
                nextVictimCgroup = cgroup
            }
            return
        }
        let key = line.kind.rawValue + " " + line.device
        if entries[key] == nil {
            if devices[line.kind, default: 0] >= Self.devicesPerKind && !makeRoom(for: line) {
                merged[line.kind, default: Merged()].count += line.count
                if line.status.metricValue > merged[line.kind, default: Merged()].status.metricValue {
                    merged[line.kind]?.status = line.status
                }
                return
            }
            devices[line.kind, default: 0] += 1
            order.append(key)
            entries[key] = Entry(
                kind: line.kind, device: line.device, count: 0, first: nil, last: nil, status: .ok,
                cgroups: [], pids: [], cpus: [], recovered: false)
        }
        guard var entry = entries[key] else { return }
        if line.recovered {
            entry.recovered = true
        } else {
            entry.count += line.count
            entry.first = entry.first ?? time
            entry.last = time ?? entry.last
            entry.recovered = false
            if line.status.metricValue > entry.status.metricValue { entry.status = line.status }
        }
        var cgroup = line.pid.flatMap { cgroupOfPid.removeValue(forKey: $0) }
        if line.kind == .oomKill, cgroup == nil { cgroup = nextVictimCgroup }
        if line.kind == .oomKill { nextVictimCgroup = nil }
        if let cgroup, !entry.cgroups.contains(cgroup), entry.cgroups.count < 10 { entry.cgroups.append(cgroup) }
        if line.kind == .hungTask || line.kind == .softLockup {
            if let pid = line.pid, !entry.pids.contains(pid), entry.pids.count < 10 { entry.pids.append(pid) }
            if let cpu = line.cpu, !entry.cpus.contains(cpu), entry.cpus.count < 10 { entry.cpus.append(cpu) }
        }
        entries[key] = entry
    }

    /// Merges the least severe entry of the line's kind to make room for the line's device; false
    /// when the line itself is what goes (every entry is failed and the line is not, or the
    /// failed entries reached their bound).
    private mutating func makeRoom(for line: KernelLine) -> Bool {
        let ofKind = order.enumerated().compactMap { index, key in entries[key].map { (index, $0) } }.filter { $0.1.kind == line.kind }
        let candidates = ofKind.filter { Self.status($0.1) != .failed }
        guard
            let (index, victim) = candidates.min(by: {
                ($0.1.status.metricValue, $0.1.count, $0.0) < ($1.1.status.metricValue, $1.1.count, $1.0)
            })
        else {
            return line.status == .failed && ofKind.count < Self.failedPerKind
        }
        if victim.status.metricValue > line.status.metricValue && line.status != .failed { return false }
        merged[line.kind, default: Merged()].count += victim.count
        let status = Self.status(victim)
        if status.metricValue > merged[line.kind, default: Merged()].status.metricValue { merged[line.kind]?.status = status }
        entries[order[index]] = nil
        order.remove(at: index)
        devices[line.kind, default: 0] -= 1
        return true
    }

    /// In the order each kind and device first appeared.
    package var all: [Entry] { order.compactMap { entries[$0] } }

    /// The verdict on one entry: some findings only fail above a count or when they did not recover.
    static func status(_ entry: Entry) -> Status {
        switch entry.kind {
        case .ioError: entry.count >= KernelPatterns.ioErrorsFailed ? .failed : .warning
        case .nfs: entry.recovered ? .ok : .failed
        default: entry.status
        }
    }
}

/// A Docker container's 64-hex id in a memory cgroup path: systemd's `docker-<id>.scope` or
/// cgroupfs's `/docker/<id>`.
enum ContainerCgroup {
    static func id(_ cgroup: String) -> String? {
        for marker in ["docker-", "/docker/"] {
            guard let range = cgroup.ranges(of: marker).last else { continue }
            let id = cgroup[range.upperBound...].prefix { $0.isHexDigit }
            if id.count == 64 { return String(id) }
        }
        return nil
    }
}
