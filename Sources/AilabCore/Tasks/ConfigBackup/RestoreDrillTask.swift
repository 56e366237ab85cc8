import FoundationEssentials

/// `config-backup --verify-restore [ARCHIVE]`: a restore drill of an archive (the newest in the
/// destination by default), read as a stream. It changes nothing on the host; a drill that
/// passes is recorded for healthcheck and the metrics.
package struct RestoreDrillTask: MaintenanceTask {
    package let name = TaskCatalog.configBackup.name
    package let destination: String
    package let archive: String?

    package init(destination: String, archive: String?) {
        self.destination = destination
        self.archive = archive
    }

    package func run(_ run: TaskRun) async throws -> Findings {
        var findings = Findings()
        let path = try archive ?? ArchiveFile.newest(in: run.context.files.path(destination))
        let file = try ArchiveFile(path)
        let started = ContinuousClock.now
        let drill = try await RestoreDrill.run(try file.rewound(), decompressor: RestoreDrill.decompressor(run), run)
        let seconds = (ContinuousClock.now - started).timeInterval
        findings.set("archive", path)
        findings.set("problems", drill.problems)
        guard drill.passed else {
            findings.add(
                "restore drill", .failed, "\(path) does not restore: " + RestoreDrill.summary(drill.problems),
                next: "do not rely on this archive; take a new one with sudo ailab config-backup --execute")
            return findings
        }
        findings.add(
            "restore drill", .ok,
            "\(path): \(drill.members) members read back and matched the manifest (size, mode, owner, sha256), \(seconds.fixed(1)) s")
        let verified = VerifiedRestore(archive: path, members: drill.members, time: run.now.timeIntervalSince1970)
        if run.context.isRoot { try verified.save(run.context.records) }
        findings.measure(VerifiedRestore.metric, VerifiedRestore.help, verified.time.rounded())
        return findings
    }
}
