/// What the kernel log of this boot holds, per kind and device, as it is read: counts, first and
/// last time, the worst line. Memory grows with the devices named, never with the log, and at most
/// `devicesPerKind` devices are kept per kind; the rest are counted together.
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
        /// NFS: the server answered again after its last "not responding".
        package var recovered: Bool
    }

    static let devicesPerKind = 64
    private var order: [String] = []
    private var entries: [String: Entry] = [:]
    private var devices: [KernelEventKind: Int] = [:]
    /// Events of devices beyond the bound, per kind.
    package private(set) var uncounted: [KernelEventKind: Int] = [:]
    /// OOM kills: pid → the victim's memory cgroup, from the summary line printed before the kill.
    private var cgroupOfPid: [String: String] = [:]

    package init() {}

    mutating func add(_ line: KernelLine, time: String?) {
        if line.kind == .oomKill, let pid = line.pid, let cgroup = line.cgroup {
            if cgroupOfPid.count < 1024 { cgroupOfPid[pid] = cgroup }
            return
        }
        let key = line.kind.rawValue + " " + line.device
        if entries[key] == nil {
            guard devices[line.kind, default: 0] < Self.devicesPerKind else {
                uncounted[line.kind, default: 0] += line.count
                return
            }
            devices[line.kind, default: 0] += 1
            order.append(key)
            entries[key] = Entry(
                kind: line.kind, device: line.device, count: 0, first: nil, last: nil, status: .ok,
                cgroups: [], recovered: false)
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
        if let pid = line.pid, let cgroup = cgroupOfPid.removeValue(forKey: pid), !entry.cgroups.contains(cgroup), entry.cgroups.count < 10
        {
            entry.cgroups.append(cgroup)
        }
        entries[key] = entry
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
