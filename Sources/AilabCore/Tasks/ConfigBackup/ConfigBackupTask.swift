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

    /// Where the archive is written: a hidden temporary name beside its final one.
    struct Layout {
        var archive: String
        var final: String
        var temporary: String
        var compressor: String

        init(archive: String, folder: String, compressor: String) {
            self.archive = archive
            final = folder + "/" + archive
            temporary = folder + "/." + archive + ".partial"
            self.compressor = compressor
        }
    }

    package func run(_ run: TaskRun) async throws -> Findings {
        let files = run.context.files
        for path in includes where !FileManager.default.fileExists(atPath: files.path(path)) {
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
        let stale = BackupDestination.stalePartials(in: folder, entries: existing ?? [])
        if !stale.isEmpty {
            findings.add(
                "stale partial", .warning,
                "left by a run that is gone (--execute removes them): "
                    + stale.map { "\($0.name) (\(ByteCount.format($0.size)))" }.joined(separator: ", "),
                next: "sudo ailab config-backup --execute removes them")
        }
        let layout = Layout(
            archive: ArchiveName.make(at: run.now), folder: folder,
            compressor: run.isInstalled("pigz") ? "pigz" : "gzip")
        let expired = Retention.expired(
            existing ?? [], now: run.now, retentionDays: retentionDays, keepMin: keepMin,
            addingNewArchive: true)
        let creation = mode?.isDryRun == false ? " (created by this run, mode 0700)" : " (will be created, mode 0700)"
        findings.add(
            "destination", .ok,
            "\(destination)" + (existing == nil ? creation : "")
                + "; archive \(layout.archive) via \(layout.compressor)")
        findings.add(
            "retention", .ok,
            expired.isEmpty
                ? "nothing to delete (\(retentionDays) days, keep \(keepMin))"
                : "would delete \(expired.count) archive(s) older than \(retentionDays) days: "
                    + expired.map(\.name).joined(separator: ", "))
        findings.set("sources", sources)
        findings.set("archive", layout.final)
        findings.set("expired", expired.map(\.name))
        if let newest = (existing ?? []).filter({ $0.isRegularFile && ArchiveName.matches($0.name) }).map(\.modified).max() {
            findings.measure(
                "ailab_backup_newest_age_seconds", "Age of the newest configuration archive.",
                max(0, run.now.timeIntervalSince(newest)).rounded())
        }

        let present = sources.filter(\.present).map(\.path)
        let makeFolder =
            existing == nil
            ? PlanStep(.createDirectory(path: folder, mode: 0o700), purpose: "create the destination") : nil
        let staleRemovals = stale.map {
            PlanStep(.remove(path: folder + "/" + $0.name), purpose: "partial archive of a run that is gone")
        }
        let createTemporary = PlanStep(
            .createFile(path: layout.temporary, mode: 0o600), purpose: "a new private file for the archive, held open")
        let archive = PlanStep.run(
            tarInvocation(layout, sources: present, root: Paths.canonical(files.path("/")), folder: folder),
            purpose: "archive \(present.count) sources into the file ailab holds open")
        let publish = PlanStep(.publish(from: layout.temporary, to: layout.final), purpose: "publish the verified archive")
        let deletions = expired.map {
            PlanStep(.remove(path: folder + "/" + $0.name), purpose: "retention: older than \(retentionDays) days")
        }
        let discard = PlanStep(.remove(path: layout.temporary), purpose: "only if writing or verifying fails")
        let plan = Plan([makeFolder].compactMap { $0 } + staleRemovals + [createTemporary, archive, publish] + deletions + [discard])
        findings.plan = plan.entries
        guard let executor = try run.gate.open(plan) else { return findings }

        let started = ContinuousClock.now
        if let makeFolder { try executor.apply(makeFolder) }
        for step in staleRemovals { try executor.apply(step) }
        let file = try executor.create(createTemporary)
        Interruption.shared.registerTemporary(layout.temporary)
        defer { Interruption.shared.unregisterTemporary(layout.temporary) }
        do {
            if let failure = try await write(archive, into: file, layout, executor, run, &findings) {
                file.discard()
                findings.add(
                    "archive", .failed, failure + "; the partial file was removed and nothing was deleted",
                    next: "fix the cause it names (space, a failing source), then run sudo ailab config-backup --execute again")
                return findings
            }
            try executor.publish(publish, file: file)
        } catch {
            // Interrupted before tar could start, or publishing failed: no partial file stays.
            file.discard()
            throw error
        }
        let size = file.size
        let seconds = (ContinuousClock.now - started).timeInterval
        findings.add("archive", .ok, "\(layout.final), \(ByteCount.format(size)), \(seconds.fixed(1)) s")
        findings.set("archiveBytes", size)
        findings.measure("ailab_backup_archive_bytes", "Size of the archive the last run wrote.", Double(size))
        findings.measure("ailab_backup_newest_age_seconds", "Age of the newest configuration archive.", 0)
        findings.set("seconds", seconds)
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

    private func tarInvocation(_ layout: Layout, sources: [String], root: String, folder: String) -> Invocation {
        // Members are relative to the root, so the archive restores with `tar -C / -xzf`.
        let relative = sources.map { String($0.drop { $0 == "/" }) }
        let destination = String((folder.hasPrefix(root) ? folder.dropFirst(root.count) : folder[...]).drop { $0 == "/" })
        // Anchored: the destination "backup" must not drop /etc/lvm/backup; "*.qcow2" still matches
        // at any depth, as tar's * matches "/" in excludes.
        let excludes = ["--anchored"] + (BackupSources.excludes + [destination]).map { "--exclude=\($0)" }
        return Invocation(
            "tar",
            [
                "--create", "--file", "-", "--use-compress-program=\(layout.compressor)",
                "--directory", root, "--preserve-permissions", "--acls", "--xattrs",
            ] + excludes + ["--"] + relative,
            timeout: .seconds(2 * 3600), output: OpenFile(planned: layout.temporary))
    }

    /// The root cause in a person's words: a full disk or an interruption before tar's own text.
    static func cause(of result: InvocationResult) -> String {
        if result.timedOut { return "timed out" }
        if result.termination == .signaled(SIGTERM) || result.termination == .signaled(SIGINT) { return "interrupted" }
        let text = result.stdout + result.stderr
        if text.contains("No space left on device") { return "no space left on device (\(result.termination))" }
        return "\(result.termination)" + (result.message.map { ": \($0)" } ?? "")
    }

    /// Writes and verifies the archive; returns why it failed, or nil.
    private func write(
        _ archive: PlanStep, into file: CreatedFile, _ layout: Layout, _ executor: PlanExecutor,
        _ run: TaskRun, _ findings: inout Findings
    ) async throws -> String? {
        let tar = try await executor.run(archive, into: file)
        // GNU tar exits 1 when a file changed while it was read: the archive is still whole.
        switch (tar.termination, tar.timedOut) {
        case (.exited(0), false):
            break
        case (.exited(1), false):
            findings.add("tar", .warning, tar.message ?? "some files changed while they were read")
        default:
            return "tar: " + Self.cause(of: tar)
        }
        // One read verifies both: the compressor checks the gzip CRC and length while it feeds
        // tar, and either failing fails the listing (a truncated or corrupted archive exits 2).
        let listing = try await run.probe(
            Invocation(
                "tar", ["--list", "--file", "-", "--use-compress-program=\(layout.compressor)"], timeout: .seconds(3600),
                input: try file.rewound()))
        guard listing.succeeded else { return "verification failed: " + Self.cause(of: listing) }
        let members = listing.stdout.split(whereSeparator: \.isNewline).count
        findings.add("verify", .ok, "gzip stream (CRC, length) and full tar listing of \(members) members" + (listing.truncated ? "+" : ""))
        return nil
    }
}
