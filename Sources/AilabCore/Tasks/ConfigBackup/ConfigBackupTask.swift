import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// config-backup: a verified, private archive of the host's configuration, then retention.
/// Nothing is deleted before a new archive has been written, verified and renamed into place.
package struct ConfigBackupTask: MaintenanceTask {
    package let name = TaskCatalog.configBackup.name
    package let mode: RunMode?
    package let destination: String
    package let retentionDays: Int
    package let keepMin: Int
    package let includes: [String]

    package init(mode: RunMode, destination: String, retentionDays: Int, keepMin: Int, includes: [String]) {
        self.mode = mode
        self.destination = destination
        self.retentionDays = retentionDays
        self.keepMin = keepMin
        self.includes = includes
    }

    struct Source: Encodable {
        var path: String
        var present: Bool
        var bytes: Int64?
    }

    package func run(_ run: TaskRun) async throws -> Findings {
        let files = run.context.files
        for path in includes where !files.exists(path) {
            throw AilabError.usage("invalid --include '\(path)': no such file or directory")
        }
        try BackupDestination.check(files.path(destination), shownAs: destination)
        // The real path: however the destination was written, its exclude below matches it.
        let folder = Paths.canonical(files.path(destination))
        var findings = Findings()
        let sources = try await survey(run)
        for source in sources {
            findings.add(
                source.path, source.present ? .ok : .absent,
                source.present
                    ? "present" + (source.bytes.map { ", \(ByteCount.format($0))" } ?? "") : "not present, skipped")
        }
        let existing: [FolderEntry]?
        do {
            existing = try FolderEntry.list(folder)
        } catch {
            findings.add(
                "destination", .failed, "cannot read \(destination): \(error)", next: "check the folder: sudo ls -ld \(destination)")
            return findings
        }
        let stale = BackupDestination.stalePartials(in: folder, entries: existing ?? [], run.context.files)
        if !stale.isEmpty {
            findings.add(
                "stale partial", .warning,
                "left by a run that is gone (--execute removes them): "
                    + stale.map { "\($0.name) (\(ByteCount.format($0.size)))" }.joined(separator: ", "),
                next: "sudo ailab config-backup --execute removes them")
        }
        let root = Paths.canonical(files.path("/"))
        let present = sources.filter(\.present).map(\.path)
        // The destination is left out however it was written: its real path, relative to the root.
        let inside = String((folder.hasPrefix(root) ? folder.dropFirst(root.count) : folder[...]).drop { $0 == "/" })
        let scratch = mode?.isDryRun == false ? try ScratchFolder(run.context) : nil
        let writer = ArchiveWriter(
            name: ArchiveName.make(at: run.now), folder: folder, sources: present, root: root, excludes: BackupSources.excludes + [inside],
            compressor: run.isInstalled("pigz") ? "pigz" : "gzip", scratch: scratch)
        let expired = Retention.expired(
            existing ?? [], now: run.now, retentionDays: retentionDays, keepMin: keepMin,
            addingNewArchive: true)
        let creation = mode?.isDryRun == false ? " (created by this run, mode 0700)" : " (will be created, mode 0700)"
        findings.add(
            "destination", .ok,
            "\(destination)" + (existing == nil ? creation : "")
                + "; archive \(writer.final.split(separator: "/").last ?? "") via \(writer.compressor)")
        findings.add(
            "retention", .ok,
            expired.isEmpty
                ? "nothing to delete (\(retentionDays) days, keep \(keepMin))"
                : "would delete \(expired.count) archive(s) older than \(retentionDays) days: "
                    + expired.map(\.name).joined(separator: ", "))
        findings.set("sources", sources)
        findings.set("archive", writer.final)
        findings.set("expired", expired.map(\.name))
        if let newest = (existing ?? []).filter({ $0.isRegularFile && ArchiveName.matches($0.name) }).map(\.modified).max() {
            findings.measure(
                "ailab_backup_newest_age_seconds", "Age of the newest configuration archive.",
                max(0, run.now.timeIntervalSince(newest)).rounded())
        }
        if let verified = try? VerifiedRestore.load(run.context.records) {
            findings.measure(VerifiedRestore.metric, VerifiedRestore.help, verified.time.rounded())
        }

        let makeFolder =
            existing == nil
            ? PlanStep(.createDirectory(path: folder, mode: 0o700), purpose: "create the destination") : nil
        let staleRemovals = stale.map {
            PlanStep(.remove(path: folder + "/" + $0.name), purpose: "partial archive of a run that is gone")
        }
        let deletions = expired.map {
            PlanStep(.remove(path: folder + "/" + $0.name), purpose: "retention: older than \(retentionDays) days")
        }
        let plan = Plan([makeFolder].compactMap { $0 } + staleRemovals + writer.steps + deletions + [writer.discard])
        findings.plan = plan.entries
        guard let executor = try run.gate.open(plan) else { return findings }

        if let makeFolder { try executor.apply(makeFolder) }
        for step in staleRemovals { try executor.apply(step) }
        guard let written = try await writer.write(executor, run, &findings) else { return findings }
        findings.add("archive", .ok, "\(written.path), \(ByteCount.format(written.bytes)), \(written.seconds.fixed(1)) s")
        findings.set("archiveBytes", written.bytes)
        findings.measure("ailab_backup_archive_bytes", "Size of the archive the last run wrote.", Double(written.bytes))
        findings.measure("ailab_backup_newest_age_seconds", "Age of the newest configuration archive.", 0)
        findings.measure(VerifiedRestore.metric, VerifiedRestore.help, run.now.timeIntervalSince1970.rounded())
        findings.set("seconds", written.seconds)
        for step in deletions {
            do {
                try executor.apply(step)
            } catch let error as AilabError {
                findings.add("retention", .failed, error.message)
            }
        }
        return findings
    }

    /// Sources as they stand, with sizes from du (approximate where some files are unreadable).
    private func survey(_ run: TaskRun) async throws -> [Source] {
        let files = run.context.files
        var sources = BackupSources.distinct(BackupSources.defaults + includes).map { Source(path: $0, present: files.exists($0)) }
        let present = sources.filter(\.present).map { files.path($0.path) }
        guard !present.isEmpty, run.isInstalled("du") else { return sources }
        let du = try await run.probe(Invocation("du", ["-s", "-B1", "--apparent-size", "--"] + present, timeout: .seconds(300)))
        var sizes: [String: Int64] = [:]
        for line in du.stdout.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "\t", maxSplits: 1)
            if fields.count == 2, let bytes = Int64(fields[0]) { sizes[String(fields[1])] = bytes }
        }
        for index in sources.indices { sources[index].bytes = sizes[files.path(sources[index].path)] }
        return sources
    }

    /// The root cause in a person's words: a full disk or an interruption before tar's own text.
    static func cause(of result: InvocationResult) -> String {
        if result.timedOut { return "timed out" }
        if result.termination == .signaled(SIGTERM) || result.termination == .signaled(SIGINT) { return "interrupted" }
        let text = result.stdout + result.stderr
        if text.contains("No space left on device") { return "no space left on device (\(result.termination))" }
        return "\(result.termination)" + (result.message.map { ": \($0)" } ?? "")
    }
}
