import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Processes in uninterruptible sleep (the D state), from /proc: stuck in the kernel, usually on
/// a device or a filesystem that does not answer, and deaf to every signal. A process counts once
/// it has lived past `bound` and is in the D state now (proc keeps no time spent in a state).
struct StuckProcess: Sendable, Equatable {
    var pid: Int
    var name: String
    var ageSeconds: Double
    /// The GPUs whose device nodes it holds open ("gpu3" for /dev/nvidia3).
    var gpus: [String]
    /// The Docker container it runs in, when its cgroup says so.
    var container: String?

    var isNVIDIA: Bool { name.hasPrefix("nvidia") }

    var summary: String {
        "\(name) (pid \(pid)" + (gpus.isEmpty ? "" : ", " + gpus.joined(separator: " "))
            + (container.map { ", container \($0.prefix(12))" } ?? "")
            + ")"
    }
}

enum StuckProcesses {
    static let bound: Double = 5 * 60

    /// Every process in the D state now, however young.
    static func read(_ probe: SectionContext) -> [StuckProcess] {
        let files = probe.files, uptime = probe.uptime ?? 0
        let ticks = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        let pids = files.list("/proc").filter { $0.allSatisfy(\.isNumber) }
        return pids.compactMap { pid in
            guard let stat = files.read("/proc/\(pid)/stat").flatMap(ProcStat.parse), stat.state == "D" else { return nil }
            let cgroup = files.read("/proc/\(pid)/cgroup")?.split(separator: "\n").compactMap { ContainerCgroup.id(String($0)) }.first
            return StuckProcess(
                pid: stat.pid, name: stat.name, ageSeconds: max(0, uptime - Double(stat.startTicks) / ticks),
                gpus: gpus(of: pid, files), container: cgroup)
        }.sorted { $0.pid < $1.pid }
    }

    /// `/dev/nvidiaN` among the process's open files: the GPUs it was talking to.
    private static func gpus(of pid: String, _ files: HostFiles) -> [String] {
        let folder = "/proc/\(pid)/fd"
        let links = files.list(folder).compactMap { files.linkTarget(folder + "/" + $0) }
        let indexes = Set(
            links.compactMap { link -> Int? in
                guard link.hasPrefix("/dev/nvidia") else { return nil }
                return Int(link.dropFirst("/dev/nvidia".count))
            })
        return indexes.sorted().map { "gpu\($0)" }
    }

    /// Warning for a process stuck past the bound; failed when it is nvidia-smi or another
    /// nvidia-* tool, whose hang means the driver itself is stuck.
    static func check(_ stuck: [StuckProcess]) -> Check {
        let old = stuck.filter { $0.ageSeconds >= bound }
        guard !old.isEmpty else {
            return Check("stuck processes", .ok, "none in the D state (uninterruptible) for over \(Int(bound / 60)) min")
        }
        let nvidia = old.filter(\.isNVIDIA)
        let listed = old.prefix(10).map { "\($0.summary), up \(HostFacts.duration($0.ageSeconds))" }.joined(separator: "; ")
        return Check(
            "stuck processes", nvidia.isEmpty ? .warning : .failed,
            "\(old.count) in the D state (uninterruptible, deaf to kill -9) and older than \(Int(bound / 60)) min: " + listed
                + (old.count > 10 ? "; and \(old.count - 10) more" : ""),
            next: nvidia.isEmpty
                ? "find what they wait on (cat /proc/PID/stack, and the kernel log's hung task lines); a dead NFS server or disk is the usual cause"
                : "the NVIDIA driver is stuck: read its complaint (sudo journalctl -k -b | grep -E 'NVRM|Xid'), drain the host and reboot it"
        )
    }
}
