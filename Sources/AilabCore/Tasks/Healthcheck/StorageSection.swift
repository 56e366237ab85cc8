/// Filesystems and inodes as disk-watch sees them, /boot's free space, and the block devices.
struct StorageSection: HealthSection {
    let title = "storage"
    /// Free space on /boot under which a kernel update may fail.
    static let bootMinimumBytes: Int64 = 200 << 20

    func findings(from probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        let usage = try await DiskProbe.read(probe.run, timeout: probe.remaining)
        let assessment = DiskAssessment(threshold: probe.threshold, nearMargin: 5)
        let states = assessment.assess(blocks: usage.blocks, inodes: usage.inodes)
        for state in states {
            findings.checks.append(DiskAssessment.check(state, threshold: probe.threshold))
        }
        findings.set("filesystems", states)
        findings.metrics += DiskAssessment.metrics(states)

        let boot = usage.blocks.first { $0.mountPoint == "/boot" } ?? usage.blocks.first { $0.mountPoint == "/" }
        if let boot {
            let low = boot.availableBytes < Self.bootMinimumBytes
            findings.add(
                "/boot free", low ? .warning : .ok,
                "\(ByteCount.format(boot.availableBytes)) free on \(boot.mountPoint)"
                    + (low ? "; a kernel update needs about \(ByteCount.format(Self.bootMinimumBytes))" : ""),
                next: "remove old kernels: sudo ailab kernel-cleanup")
        }

        if probe.has("lsblk") {
            let result = try await probe.call("lsblk", Lsblk.arguments)
            if result.succeeded, let devices = try? Lsblk.parse(result.stdout) {
                // An unconfigured zram or empty drive shows as a 0 B disk: noise among the real ones.
                let disks = devices.filter { $0.type == "disk" && $0.sizeBytes > 0 }
                findings.add(
                    "block devices", .ok,
                    disks.isEmpty
                        ? "no disks listed"
                        : disks.map { disk in
                            ([disk.name, ByteCount.format(disk.sizeBytes)] + (disk.model.map { [$0] } ?? [])).joined(separator: " ")
                        }.joined(separator: "; "))
                findings.set("blockDevices", devices)
                let ssds = disks.filter(\.trimmable).map(\.name)
                if !ssds.isEmpty, probe.has("systemctl") { findings.add(try await trimCheck(ssds, probe)) }
            } else {
                findings.add(
                    "block devices", .warning, "lsblk: \(result.message ?? result.termination.description)",
                    next: "run lsblk by hand to see what it cannot read")
            }
        } else {
            findings.add("block devices", .absent, "lsblk is not installed (util-linux)")
        }
        return findings
    }

    /// SSDs that take TRIM need `fstrim.timer` (weekly on Ubuntu) enabled and running on time.
    private func trimCheck(_ ssds: [String], _ probe: SectionContext) async throws -> Check {
        let listed = try await probe.call("systemctl", ["list-timers", "--all", "--output=json", "--no-pager", "fstrim.timer"])
        let disks = ssds.joined(separator: ", ")
        guard listed.succeeded, let timers = try? Systemctl.parseTimers(listed.stdout) else {
            return Check(
                "fstrim", .warning, "cannot list fstrim.timer: \(listed.message ?? listed.termination.description)",
                next: "systemctl status fstrim.timer")
        }
        guard let timer = timers.first(where: { $0.unit == "fstrim.timer" }), timer.next != nil else {
            return Check(
                "fstrim", .warning, "fstrim.timer is not enabled; \(disks) take TRIM and slow down without it",
                next: "sudo systemctl enable --now fstrim.timer")
        }
        guard let last = timer.last else {
            return Check("fstrim", .warning, "fstrim.timer has never run (\(disks))", next: "sudo systemctl start fstrim.service")
        }
        let age = max(0, probe.run.now.timeIntervalSince(last))
        return age > Self.trimPeriod
            ? Check(
                "fstrim", .warning, "fstrim.timer last ran \(HostFacts.duration(age)) ago (\(disks))",
                next: "see why it did not run: systemctl status fstrim.timer fstrim.service")
            : Check("fstrim", .ok, "fstrim.timer ran \(HostFacts.duration(age)) ago (\(disks))")
    }

    /// A week, as Ubuntu schedules it, and a day's grace.
    static let trimPeriod: Double = 8 * 86400
}
