import FoundationEssentials

/// Writes one config-backup archive, as config-backup, restore (before it replaces anything) and
/// upgrade (for a rollback point) need it: the sources walked into a member list, tar streaming
/// exactly those members through ailab (which hashes each as it passes) into the compressor and a
/// new file ailab created and holds open, the manifest of what passed as the last member, a
/// restore drill of that file, and only then its final name. Each source is read once.
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

    /// tar writing the listed members, uncompressed, to ailab. Modes, owners, ACLs and extended
    /// attributes go in; the pax header's times stay out (mtime keeps its whole seconds in the
    /// member's own header), so that a member needs a pax header only when it has more to carry,
    /// and the stream of many small files is a third smaller.
    var members: Invocation {
        Invocation(
            "tar",
            [
                "--create", "--file", "-", "--acls", "--xattrs", "--pax-option=delete=atime,delete=ctime,delete=mtime", "--directory",
                root.isEmpty ? "/" : root, "--null", "--no-recursion", "--files-from", scratch + "/members",
            ], timeout: .seconds(2 * 3600))
    }

    /// The manifest as a tar stream of its own, to follow the members.
    var manifest: Invocation {
        Invocation(
            "tar",
            ["--create", "--file", "-", "--numeric-owner", "--owner=0", "--group=0", "--directory", scratch, ArchiveManifest.member],
            timeout: .seconds(600))
    }

    package var createTemporary: PlanStep {
        PlanStep(.createFile(path: temporary, mode: 0o600), purpose: "a new private file for the archive, held open")
    }

    package var archive: PlanStep {
        PlanStep.run(
            Invocation(compressor, timeout: .seconds(2 * 3600), output: OpenFile(planned: temporary)),
            purpose:
                "compress into the file ailab holds open what ailab passes on: \(members.commandLine) (the \(sources.count) source(s)' "
                + "members, each hashed as it passes), then the manifest")
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
        let listed = try list()
        let file = try executor.create(createTemporary)
        run.context.temporaries.register(temporary)
        defer { run.context.temporaries.unregister(temporary) }
        do {
            if let failure = try await fill(file, listed, executor, run, &findings) {
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
        let written = Written(path: final, bytes: file.size, members: listed.count, seconds: (ContinuousClock.now - started).timeInterval)
        if run.context.isRoot {
            try? VerifiedRestore(archive: final, members: written.members, time: run.now.timeIntervalSince1970).save(
                run.context.records)
        }
        return written
    }

    /// The sources' members, as tar reads them from the member list written into the scratch folder.
    private func list() throws -> [String] {
        let listed = ArchiveManifest.walk(sources, root: root, excludes: excludes).map(\.path)
        guard let scratchFolder else { throw AilabError.failed("no scratch folder for the member list") }
        try scratchFolder.write("members", Array(listed.map { $0 + "\0" }.joined().utf8))
        return listed
    }

    /// tar through ailab into the compressor and the file, then the drill; returns why it failed, or nil.
    private func fill(
        _ file: CreatedFile, _ listed: [String], _ executor: PlanExecutor, _ run: TaskRun, _ findings: inout Findings
    ) async throws -> String? {
        let pipe = try StreamPipe(name: "tar")
        let compressing = Task {
            defer { pipe.readerEnded() }
            return try await executor.run(archive, into: file, from: pipe)
        }
        let fed: Result<String?, any Error>
        do {
            fed = .success(try await feed(pipe, listed, run))
        } catch {
            fed = .failure(error)
        }
        pipe.closeWriting()
        let compressed = try await compressing.value
        if let failure = try fed.get() { return failure }
        guard compressed.succeeded, !pipe.broken else { return "\(compressor): " + ConfigBackupTask.cause(of: compressed) }
        // One read proves it all: the gzip CRC and length, the tar stream, and every member
        // against the manifest.
        let drill = try await RestoreDrill.run(try file.rewound(), decompressor: compressor, run)
        guard drill.passed else {
            return "restore drill failed: " + RestoreDrill.summary(drill.problems)
        }
        findings.add(
            "verify", .ok, "restore drill: \(drill.members) members read back and matched the manifest (size, mode, owner, sha256)")
        return nil
    }

    /// The members from tar, then the manifest of what passed; returns why it failed, or nil.
    private func feed(_ pipe: StreamPipe, _ listed: [String], _ run: TaskRun) async throws -> String? {
        let relay = ArchiveRelay(pipe)
        let tar = try await run.stream(members, into: relay)
        // GNU tar exits 1 when a file changed while it was read: the copy may be torn.
        guard tar.succeeded else { return "tar: " + ConfigBackupTask.cause(of: tar) }
        if let damage = relay.stream.damage { return "tar's stream: " + damage }
        let archived = relay.stream.members.map(\.header.name)
        if let left = Set(listed).subtracting(archived).sorted().first { return "tar left out /\(left)" }
        let manifest = ArchiveManifest(entries: relay.stream.members.map(ManifestEntry.init))
        guard let scratchFolder else { throw AilabError.failed("no scratch folder for the manifest") }
        try scratchFolder.write(ArchiveManifest.member, Array(manifest.text.utf8))
        let last = ArchiveRelay(pipe)
        let second = try await run.stream(self.manifest, into: last)
        guard second.succeeded, last.stream.damage == nil else { return "tar (the manifest): " + ConfigBackupTask.cause(of: second) }
        ArchiveRelay.end(after: relay.passed + last.passed).withUnsafeBufferPointer { pipe.feed($0) }
        return nil
    }
}
