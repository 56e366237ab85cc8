import FoundationEssentials

/// Writes one config-backup archive, as config-backup, restore (before it replaces anything) and
/// upgrade (for a rollback point) need it: the sources walked into a manifest with every file's
/// sha256, tar writing the manifest and then exactly those members into a new file ailab created
/// and holds open, a restore drill of that file, and only then its final name.
package struct ArchiveWriter: Sendable {
    package let final: String
    let temporary: String
    let compressor: String
    let sources: [String]
    let root: String
    let excludes: [String]
    /// Where the manifest and the member list are written; a dry run makes none.
    let scratchFolder: ScratchFolder?

    /// The scratch folder's name in a dry run's plan.
    static let plannedScratch = "/var/tmp/ailab.XXXXXX"

    /// `root` is the real path of `/` (a test folder in tests); `excludes` are member-name patterns.
    package init(
        name: String, folder: String, sources: [String], root: String, excludes: [String], compressor: String, scratch: ScratchFolder?
    ) {
        final = folder + "/" + name
        temporary = folder + "/." + name + ".partial"
        self.compressor = compressor
        self.sources = sources
        self.root = root == "/" ? "" : root
        self.excludes = excludes
        scratchFolder = scratch
    }

    var scratch: String { scratchFolder?.path ?? Self.plannedScratch }

    package var createTemporary: PlanStep {
        PlanStep(.createFile(path: temporary, mode: 0o600), purpose: "a new private file for the archive, held open")
    }

    package var archive: PlanStep {
        PlanStep.run(
            Invocation(
                "tar",
                [
                    "--create", "--file", "-", "--use-compress-program=\(compressor)", "--preserve-permissions", "--acls", "--xattrs",
                    "--directory", scratch, ArchiveManifest.member, "--directory", root.isEmpty ? "/" : root, "--null", "--no-recursion",
                    "--files-from", scratch + "/members",
                ], timeout: .seconds(2 * 3600), output: OpenFile(planned: temporary)),
            purpose: "archive the manifest, then the \(sources.count) source(s)' members it lists, into the file ailab holds open")
    }

    package var publish: PlanStep { PlanStep(.publish(from: temporary, to: final), purpose: "publish the verified archive") }

    package var discard: PlanStep { PlanStep(.remove(path: temporary), purpose: "only if writing or verifying fails") }

    package var steps: [PlanStep] { [createTemporary, archive, publish] }

    package struct Written: Sendable {
        package var path: String
        package var bytes: Int64
        package var members: Int
        package var seconds: Double
    }

    /// Writes, drills and publishes the archive. A failure is a failed check (what it names, and
    /// that the partial file went) and nil; nothing of it stays behind.
    package func write(_ executor: PlanExecutor, _ run: TaskRun, _ findings: inout Findings, check: String = "archive") async throws
        -> Written?
    {
        let started = ContinuousClock.now
        let manifest = try await self.manifest(run)
        let file = try executor.create(createTemporary)
        run.context.temporaries.register(temporary)
        defer { run.context.temporaries.unregister(temporary) }
        do {
            if let failure = try await fill(file, manifest, executor, run, &findings) {
                file.discard()
                findings.add(
                    check, .failed, failure + "; the partial file was removed and nothing was deleted",
                    next: "fix the cause it names (space, a file that changed), then run the command again")
                return nil
            }
            try executor.publish(publish, file: file)
        } catch {
            // Interrupted before tar could start, or publishing failed: no partial file stays.
            file.discard()
            throw error
        }
        let written = Written(
            path: final, bytes: file.size, members: manifest.entries.count, seconds: (ContinuousClock.now - started).timeInterval)
        if run.context.isRoot {
            try? VerifiedRestore(archive: final, members: written.members, time: run.now.timeIntervalSince1970).save(
                run.context.records)
        }
        return written
    }

    /// The manifest and the member list tar reads, written into the scratch folder.
    private func manifest(_ run: TaskRun) async throws -> ArchiveManifest {
        var entries = ArchiveManifest.walk(sources, root: root, excludes: excludes)
        let digests = try await FileDigests.sha256(entries.filter { $0.kind == .file }.map { root + "/" + $0.path }, run)
        for index in entries.indices where entries[index].kind == .file {
            entries[index].sha256 = digests[root + "/" + entries[index].path]
        }
        let manifest = ArchiveManifest(entries: entries)
        guard let scratchFolder else { throw AilabError.failed("no scratch folder for the manifest") }
        try scratchFolder.write(ArchiveManifest.member, Array(manifest.text.utf8))
        try scratchFolder.write("members", Array(entries.map { $0.path + "\0" }.joined().utf8))
        return manifest
    }

    /// tar into the file, then the drill; returns why it failed, or nil.
    private func fill(
        _ file: CreatedFile, _ manifest: ArchiveManifest, _ executor: PlanExecutor, _ run: TaskRun, _ findings: inout Findings
    ) async throws -> String? {
        let tar = try await executor.run(archive, into: file)
        // GNU tar exits 1 when a file changed while it was read; the drill then says which.
        switch (tar.termination, tar.timedOut) {
        case (.exited(0), false), (.exited(1), false): break
        default: return "tar: " + ConfigBackupTask.cause(of: tar)
        }
        // One read proves it all: the gzip CRC and length, the tar stream, and every member
        // against the manifest.
        let drill = try await RestoreDrill.run(try file.rewound(), compressor: compressor, run)
        guard drill.passed else {
            return "restore drill failed: " + RestoreDrill.summary(drill.problems)
        }
        findings.add(
            "verify", .ok, "restore drill: \(drill.members) members extracted and matched the manifest (size, mode, owner, sha256)")
        return nil
    }
}
