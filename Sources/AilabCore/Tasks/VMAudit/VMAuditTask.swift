import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// vm-audit: libvirt domains, pools, volumes and the image files nothing uses. Read-only.
package struct VMAuditTask: MaintenanceTask {
    package let name = TaskCatalog.vmAudit.name
    package let keepsLog = false
    package let connect: String?
    package let imageFolders: [String]
    static let imageExtensions: Set<String> = ["qcow2", "img", "raw", "iso"]

    package init(connect: String?, imageFolders: [String] = ["/var/lib/libvirt/images"]) {
        self.connect = connect
        self.imageFolders = imageFolders
    }

    struct Domain: Encodable {
        var name: String
        var state: String
        var vcpus: Int?
        var memoryKiB: Int64?
        var autostart: String
        var disks: [DomainDisk]
        var snapshots: Int?
    }

    struct ImageFile: Encodable {
        var path: String
        var bytesOnDisk: Int64
        var referencedBy: [String]
        var unreferenced: Bool { referencedBy.isEmpty }
    }

    package func run(_ run: TaskRun) async throws -> Findings {
        var findings = Findings()
        // The documented lists are there, empty, whatever stops the audit early.
        for key in TaskCatalog.vmAudit.lists { findings.set(key, [String]()) }
        findings.set("unreferencedBytes", 0)
        if let absence = ComponentPresence.libvirtAbsence(run, connect: connect) {
            findings.add("libvirt", .absent, absence + ": nothing to audit")
            return findings
        }
        let listed = try await run.probe(virsh(["list", "--all", "--name"]))
        guard listed.succeeded else {
            let uri = connect ?? run.context.environment["LIBVIRT_DEFAULT_URI"] ?? "the default URI"
            findings.add(
                "libvirt", .failed, "cannot connect to \(uri): \(listed.message ?? listed.termination.description)",
                next: "sudo systemctl status libvirtd, and virsh -c \(uri) list --all by hand")
            return findings
        }
        let domains = try await self.domains(VirshTable.names(listed.stdout), run)
        let pools = try await storagePools(run)
        let volumes = try await withThrowingTaskGroup(of: [StorageVolume].self) { group in
            for pool in pools where pool.state == "running" {
                group.addTask {
                    let result = try await run.probe(virsh(["vol-list", pool.name, "--details"]))
                    return result.succeeded ? try Virsh.parseVolumes(result.stdout, pool: pool.name) : []
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }.sorted { ($0.pool, $0.name) < ($1.pool, $1.name) }
        }
        let folders = Array(Set(pools.compactMap(\.targetPath) + imageFolders)).sorted()
        let images = imageFiles(in: folders, files: run.context.files, domains: domains)

        for domain in domains {
            let memory = domain.memoryKiB.map { ByteCount.format($0 * 1024) } ?? "?"
            // A file disk whose image is gone: the domain will not start.
            let missing = domain.disks.filter { $0.type == "file" }.compactMap(\.source).filter { !run.context.files.exists($0) }
            findings.add(
                "domain \(domain.name)", missing.isEmpty ? .ok : .warning,
                "\(domain.state), \(domain.vcpus.map(String.init) ?? "?") vCPUs, \(memory), "
                    + "autostart \(domain.autostart), \(domain.disks.count) disk(s)"
                    + (domain.snapshots.map { ", \($0) snapshot(s)" } ?? "")
                    + missing.map { "; missing disk image \($0)" }.joined(),
                next: "restore the image or point the disk elsewhere: virsh edit \(domain.name)")
        }
        for pool in pools {
            let sizes = [
                pool.capacityBytes.map { "capacity \(ByteCount.format($0))" },
                pool.allocationBytes.map { "allocated \(ByteCount.format($0))" },
                pool.availableBytes.map { "available \(ByteCount.format($0))" },
            ].compactMap { $0 }
            findings.add(
                "pool \(pool.name)", .ok,
                (["\(pool.state)", "autostart \(pool.autostart)"] + sizes
                    + [pool.targetPath ?? "no target path"]).joined(separator: ", "))
        }
        for image in images {
            findings.add(
                image.path, image.unreferenced ? .warning : .ok,
                "\(ByteCount.format(image.bytesOnDisk)) on disk, "
                    + (image.unreferenced ? "unreferenced: no domain uses it" : "used by " + image.referencedBy.joined(separator: ", ")),
                next: "check with qemu-img info \(image.path) whether a VM still needs it")
        }
        let unreferenced = images.filter(\.unreferenced)
        let unreferencedBytes = unreferenced.map(\.bytesOnDisk).reduce(0, +)
        findings.add(
            "unreferenced images", unreferenced.isEmpty ? .ok : .warning,
            unreferenced.isEmpty
                ? "none"
                : "\(unreferenced.count) file(s) hold \(ByteCount.format(unreferencedBytes))",
            next: "review each one (qemu-img info FILE) before deleting it by hand; ailab never deletes them")
        if !volumes.isEmpty {
            findings.notes.append(
                "Volumes:\n"
                    + volumes.map {
                        "  \($0.pool)/\($0.name)  \($0.path)  capacity \($0.capacityBytes.map(ByteCount.format) ?? "?"), allocation \($0.allocationBytes.map(ByteCount.format) ?? "?")"
                    }
                    .joined(separator: "\n"))
        }
        findings.set("domains", domains)
        findings.set("pools", pools)
        findings.set("volumes", volumes)
        findings.set(
            "images",
            images.map {
                [
                    "path": JSONValue.string($0.path), "bytesOnDisk": .int($0.bytesOnDisk),
                    "referencedBy": .array($0.referencedBy.map(JSONValue.string)),
                    "unreferenced": .bool($0.unreferenced),
                ]
            })
        findings.set("unreferencedBytes", unreferencedBytes)
        return findings
    }

    func virsh(_ arguments: [String]) -> Invocation {
        Invocation("virsh", (connect.map { ["--connect", $0] } ?? []) + arguments, timeout: .seconds(60))
    }

    /// dominfo says enable/disable where pool-list says yes/no: one word for both in the report.
    static func yesNo(_ value: String?) -> String {
        switch value {
        case "enable": "yes"
        case "disable": "no"
        default: value ?? "unknown"
        }
    }

    /// Every domain in a constant number of calls (`domstats`, and `list` for autostart and
    /// snapshots), falling back to dominfo and domblklist for a domain the driver reports less of.
    private func domains(_ names: [String], _ run: TaskRun) async throws -> [Domain] {
        async let statsCall = run.probe(virsh(["domstats", "--state", "--vcpu", "--balloon", "--block"]))
        async let autostartCall = run.probe(virsh(["list", "--all", "--autostart", "--name"]))
        async let snapshotsCall = run.probe(virsh(["list", "--all", "--name", "--with-snapshot"]))
        let (stats, autostart, withSnapshots) = try await (statsCall, autostartCall, snapshotsCall)
        let known =
            stats.succeeded && autostart.succeeded && withSnapshots.succeeded
            ? Dictionary(Virsh.parseDomainStats(stats.stdout).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }) : [:]
        let autostarted = Set(VirshTable.names(autostart.stdout))
        let snapshotted = Set(VirshTable.names(withSnapshots.stdout))
        return try await boundedMap(names, limit: Self.concurrentCalls) { name in
            guard let stat = known[name], let state = stat.state, let vcpus = stat.vcpus, let memory = stat.memoryKiB,
                let disks = stat.disks
            else { return try await domain(name, run) }
            var snapshots = 0
            if snapshotted.contains(name) {
                let listed = try await run.probe(virsh(["snapshot-list", name, "--name"]))
                snapshots = VirshTable.names(listed.stdout).count
            }
            return Domain(
                name: name, state: state, vcpus: vcpus, memoryKiB: memory, autostart: autostarted.contains(name) ? "yes" : "no",
                disks: disks, snapshots: snapshots)
        }.sorted { $0.name < $1.name }
    }

    /// virsh runs at most this many at once where a domain needs calls of its own.
    static let concurrentCalls = 8

    private func domain(_ name: String, _ run: TaskRun) async throws -> Domain {
        async let infoCall = run.probe(virsh(["dominfo", name]))
        async let disksCall = run.probe(virsh(["domblklist", name, "--details"]))
        async let snapshotsCall = run.probe(virsh(["snapshot-list", name, "--name"]))
        let (info, disks, snapshots) = try await (infoCall, disksCall, snapshotsCall)
        let values = VirshTable.keyValues(info.stdout)
        return Domain(
            name: name, state: values["State"] ?? "unknown", vcpus: values["CPU(s)"].flatMap { Int($0) },
            memoryKiB: values["Max memory"].flatMap { Int64($0.split(separator: " ").first ?? "") },
            autostart: Self.yesNo(values["Autostart"]),
            disks: disks.succeeded ? try Virsh.parseDisks(disks.stdout) : [],
            snapshots: snapshots.succeeded ? VirshTable.names(snapshots.stdout).count : nil)
    }

    private func storagePools(_ run: TaskRun) async throws -> [StoragePool] {
        let listed = try await run.probe(virsh(["pool-list", "--all", "--details"]))
        guard listed.succeeded else { return [] }
        return try await withThrowingTaskGroup(of: StoragePool.self) { group in
            for pool in try Virsh.parsePoolList(listed.stdout) {
                group.addTask {
                    let xml = try await run.probe(virsh(["pool-dumpxml", pool.name]))
                    return xml.succeeded ? try Virsh.parsePoolXML(xml.stdout, into: pool) : pool
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }.sorted { $0.name < $1.name }
        }
    }

    /// Image files under the folders, with their allocated size and the domains that use them.
    /// Symlinks are not followed; paths are compared after resolving links on both sides.
    private func imageFiles(in folders: [String], files: HostFiles, domains: [Domain]) -> [ImageFile] {
        var users: [String: [String]] = [:]
        for domain in domains {
            for source in domain.disks.compactMap(\.source) {
                users[URL(fileURLWithPath: files.path(source)).resolvingSymlinksInPath().path, default: []].append(domain.name)
            }
        }
        var found: [String: ImageFile] = [:]
        for folder in folders {
            let base = files.path(folder)
            for relative in files.subpaths(folder) {
                let full = base + "/" + relative
                guard Self.imageExtensions.contains(URL(fileURLWithPath: full).pathExtension.lowercased()) else { continue }
                var status = stat()
                guard lstat(full, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { continue }
                let resolved = URL(fileURLWithPath: full).resolvingSymlinksInPath().path
                let shown = files.root.isEmpty ? resolved : String(resolved.dropFirst(files.root.count))
                found[resolved] = ImageFile(
                    path: shown, bytesOnDisk: Int64(status.st_blocks) * 512,
                    referencedBy: Array(Set(users[resolved] ?? [])).sorted())
            }
        }
        return found.values.sorted { $0.path < $1.path }
    }
}
