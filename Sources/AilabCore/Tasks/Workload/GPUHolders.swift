/// Who holds each GPU: nvidia-smi's compute processes, each with its user and owner from /proc,
/// and the GPUs passed through to running VMs.
package enum GPUHolders {
    /// A read-only command within the caller's time.
    package typealias Call = @Sendable (_ executable: String, _ arguments: [String]) async throws -> InvocationResult

    /// The processes nvidia-smi lists, or, where it cannot answer (a driver and library mismatch,
    /// a hung GPU), those that hold a `/dev/nvidiaN` open, as fuser would find them.
    package static func processes(_ call: Call, files: HostFiles, has: (String) -> Bool) async throws -> Result<[GPUProcess], Unknown> {
        let listed: [ComputeApp]
        if has("nvidia-smi"), let apps = try await computeApps(call) {
            listed = apps
        } else {
            listed = openers(files)
            guard !listed.isEmpty || files.exists("/proc/self/fd") else { return .failure(Unknown(reason: "/proc is not readable")) }
        }
        return .success(try await attribute(listed, gpuIndex: [:], files: files, call: call, has: has))
    }

    /// Why the processes are unknown.
    package struct Unknown: Error, Sendable {
        package let reason: String
    }

    /// `--query-compute-apps`; nil when nvidia-smi fails or says something else.
    package static func computeApps(_ call: Call) async throws -> [ComputeApp]? {
        let result = try await call("nvidia-smi", ComputeApps.arguments)
        guard result.succeeded, !result.timedOut else { return nil }
        return try? ComputeApps.parse(result.stdout)
    }

    /// Each process with its GPU's index, its user and its owner; containers by their names.
    package static func attribute(
        _ apps: [ComputeApp], gpuIndex: [String: Int], files: HostFiles, call: Call, has: (String) -> Bool
    ) async throws -> [GPUProcess] {
        let users = Passwd.names(files.read("/etc/passwd") ?? "")
        var processes = apps.map { app in
            GPUProcess(
                gpu: app.gpuBusID.flatMap { gpuIndex[KernelXids.normalizePCI($0)] }, pid: app.pid, name: app.name,
                user: files.read("/proc/\(app.pid)/status").flatMap(ProcStatus.realUID).map { users[$0] ?? String($0) },
                memoryMiB: app.memoryMiB, owner: files.read("/proc/\(app.pid)/cgroup").flatMap(ProcessCgroup.owner))
        }
        if processes.contains(where: { $0.owner?.kind == .container }), has("docker") {
            let names = try await containerNames(call)
            for index in processes.indices where processes[index].owner?.kind == .container {
                let id = processes[index].owner?.name ?? ""
                processes[index].owner?.name = names[id] ?? String(id.prefix(12))
            }
        }
        return processes
    }

    /// Running containers' full ids and names; none when the daemon does not answer.
    static func containerNames(_ call: Call) async throws -> [String: String] {
        let result = try await call("docker", ["ps", "--no-trunc", "--format", "{{.ID}} {{.Names}}"])
        guard result.succeeded else { return [:] }
        return Dictionary(
            result.stdout.split(whereSeparator: \.isNewline).compactMap { line in
                let parts = line.split(separator: " ", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }, uniquingKeysWith: { first, _ in first })
    }

    /// Processes holding a GPU's device file open (`/dev/nvidia0`…; not nvidiactl or nvidia-uvm).
    static func openers(_ files: HostFiles) -> [ComputeApp] {
        files.list("/proc").filter { $0.allSatisfy(\.isNumber) }.compactMap { pid in
            let holds = files.list("/proc/\(pid)/fd").contains { descriptor in
                guard let target = files.linkTarget("/proc/\(pid)/fd/\(descriptor)"), target.hasPrefix("/dev/nvidia") else { return false }
                return target.dropFirst("/dev/nvidia".count).allSatisfy(\.isNumber) && target.count > "/dev/nvidia".count
            }
            guard holds, let number = Int(pid) else { return nil }
            return ComputeApp(gpuBusID: nil, pid: number, name: files.read("/proc/\(pid)/comm")?.trimmed() ?? "?", memoryMiB: nil)
        }
    }

    /// NVIDIA GPUs bound to vfio-pci, each with the running domain that has it as a host device.
    package static func passedThrough(_ call: Call, files: HostFiles, has: (String) -> Bool) async throws -> [PassedGPU] {
        let bound = PCIInventory.nvidiaGPUs(files).filter { address in
            files.linkTarget("/sys/bus/pci/devices/\(address)/driver")?.split(separator: "/").last == "vfio-pci"
        }
        guard !bound.isEmpty else { return [] }
        var owners: [String: String] = [:]
        if has("virsh") {
            let running = try await call("virsh", ["list", "--name"])
            for domain in running.succeeded ? VirshTable.names(running.stdout) : [] {
                let xml = try await call("virsh", ["dumpxml", domain])
                for address in Virsh.hostDevices(xml.stdout) { owners[address] = domain }
            }
        }
        return bound.map { PassedGPU(pci: $0, domain: owners[$0.lowercased()]) }
    }
}
