import FoundationEssentials

/// restore: paths from a config-backup archive (the newest in backup.dest by default) put back.
/// The dry run says of each path whether it is unchanged, changed (with a diff for text that is
/// no secret), missing now, or new since the archive (left alone). `--execute` first archives
/// what it will replace, so that the restore itself can be undone; `--to` extracts into an empty
/// folder instead.
package struct RestoreTask: MaintenanceTask {
    package let name = TaskCatalog.restore.name
    package let mode: RunMode?
    package let destination: String
    package let archive: String?
    package let paths: [String]
    package let into: String?

    package init(mode: RunMode, destination: String, archive: String?, paths: [String], into: String?) {
        self.mode = mode
        self.destination = destination
        self.archive = archive
        self.paths = paths
        self.into = into
    }

    package struct RestoredPath: Sendable, Encodable, Equatable {
        package enum State: String, Sendable, Encodable { case unchanged, changed, missing, new }
        package var path: String
        package var state: State
        package var detail: String
        package var diff: String?
    }

    /// tar reading the archive from stdin into `folder`, as root restores: owners, modes, ACLs and
    /// extended attributes as recorded. tar itself refuses members with `..` and strips a leading `/`.
    static func extraction(from archive: OpenFile, into folder: String, members: [String]) -> Invocation {
        Invocation(
            "tar",
            [
                "--extract", "--file", "-", "--use-compress-program=gzip", "--directory", folder, "--numeric-owner", "--same-owner",
                "--preserve-permissions", "--acls", "--xattrs", "--no-wildcards", "--no-unquote", "--",
            ] + members,
            timeout: .seconds(3600), input: archive)
    }

    /// Text files up to this size get a unified diff.
    static let diffLimit: Int64 = 64 * 1024

    package func run(_ run: TaskRun) async throws -> Findings {
        let files = run.context.files
        let archivePath = try archive ?? ArchiveFile.newest(in: files.path(destination))
        let file = try ArchiveFile(archivePath)
        var findings = Findings()
        findings.set("archive", archivePath)
        let listing = try await run.probe(
            Invocation(
                "tar", TarMember.arguments + ["--file", "-", "--use-compress-program=gzip"], timeout: .seconds(3600),
                input: try file.rewound()))
        guard listing.succeeded, let members = try? TarMember.parse(listing.stdout) else {
            findings.add(
                "archive", .failed,
                "\(archivePath) cannot be read: \(listing.succeeded ? "tar's listing is not understood" : listing.failureSummary)",
                next: "drill it: sudo ailab config-backup --verify-restore \(archivePath)")
            return findings
        }
        let refused = ArchiveMembers.refusals(members)
        guard refused.isEmpty else {
            findings.add("archive", .failed, "refused: " + RestoreDrill.summary(refused), next: "do not restore from this archive")
            return findings
        }
        let memberSet = Set(members.map(\.name)).subtracting([ArchiveManifest.member])
        let wanted = paths.map { String($0.drop { $0 == "/" }) }
        for path in wanted where !memberSet.contains(where: { $0 == path || $0.hasPrefix(path + "/") }) {
            throw AilabError.usage("invalid path '/\(path.escapingControls)': not in \(archivePath)")
        }
        // The archive's own tops (`etc`, `root/.bashrc`), not the top folders they sit in: a whole
        // restore compares what was archived, never all of /var or /root.
        let roots = wanted.isEmpty ? memberSet.filter { !memberSet.contains(Self.parent($0)) }.sorted() : wanted
        let extracted = try ScratchFolder(run.context)
        let tar = try await run.probe(
            Self.extraction(from: try file.rewound(), into: extracted.path, members: wanted))
        guard tar.succeeded else {
            findings.add("archive", .failed, "\(archivePath) does not extract: \(ConfigBackupTask.cause(of: tar))")
            return findings
        }
        let entries = ArchiveManifest.walk(roots, root: extracted.path, excludes: []).filter { memberSet.contains($0.path) }
        let base = into ?? String(files.path("/").dropLast())
        // A few side by side: each changed text file costs a diff.
        var results = try await boundedMap(entries, limit: 8) { entry in
            try await compare(entry, extracted: extracted, base: base, run)
        }
        if into == nil {
            let archived = Set(entries.map(\.path))
            let now = ArchiveManifest.walk(roots, root: base, excludes: BackupSources.excludes)
            results += now.filter { !archived.contains($0.path) }.map {
                RestoredPath(path: "/" + $0.path, state: .new, detail: "new since the archive\(Self.special($0.mode)) (left alone)")
            }
        }
        report(results, archivePath, into: &findings)
        return try await change(results, entries, extracted, run, &findings)
    }

    static func parent(_ member: String) -> String {
        member.lastIndex(of: "/").map { String(member[..<$0]) } ?? ""
    }

    /// Setuid and setgid are named wherever a path is: a restore that brings one back, or one that
    /// appeared since the archive, is never just "missing" or "new".
    static func special(_ mode: String) -> String {
        let bits = UInt32(mode, radix: 8) ?? 0
        let named = [(0o4000, "setuid"), (0o2000, "setgid")].filter { bits & UInt32($0.0) != 0 }.map(\.1)
        return named.isEmpty ? "" : ", " + named.joined(separator: " and ")
    }

    private func compare(_ archived: ManifestEntry, extracted: ScratchFolder, base: String, _ run: TaskRun) async throws -> RestoredPath {
        let shown = "/" + archived.path
        let now: ManifestEntry
        let content: [UInt8]?
        switch LivePath.observe(archived.path, under: base, readContent: archived.kind == .file) {
        case .missing:
            return RestoredPath(path: shown, state: .missing, detail: "missing now (would be recreated\(Self.special(archived.mode)))")
        case .beneathLink(let link):
            return RestoredPath(
                path: shown, state: .changed, detail: "changed: \(link) is a link now (not followed; a restore refuses it)"
            )
        case .found(let entry, let bytes):
            (now, content) = (entry, bytes)
        }
        let archivedPath = extracted.path + "/" + archived.path
        var differences: [String] = []
        var diff: String?
        if now.kind != archived.kind {
            differences.append(
                "a \(now.kind.rawValue) now\(now.target.map { " (→ \($0))" } ?? ""), a \(archived.kind.rawValue) in the archive")
        } else {
            let archivedBytes = archived.kind == .file ? HostFiles().bytes(archivedPath) : nil
            if archived.kind == .file && (archivedBytes == nil || archivedBytes != content) {
                if Secrets.isSecret(shown, modes: [archived.mode, now.mode]) {
                    differences.append("content differs")
                } else if let archivedBytes, let content, archivedBytes.count <= Self.diffLimit, content.count <= Self.diffLimit,
                    Self.isText(archivedBytes), Self.isText(content)
                {
                    // What is there now is diffed from the copy ailab read through its descriptor.
                    let copyName = ".ailab-now-\(UInt64.random(in: 0...UInt64.max))"
                    let copy = try extracted.write(copyName, content)
                    let result = try await run.probe(
                        Invocation(
                            "diff", ["-u", "--label", "\(shown) (now)", "--label", "\(shown) (archive)", "--", copy, archivedPath],
                            timeout: .seconds(60)))
                    extracted.remove(copyName)
                    diff = result.stdout
                    differences.append("content differs")
                } else {
                    differences.append("content differs (binary or over 64 KiB)")
                }
            }
            if archived.target != now.target { differences.append("link target \(now.target ?? "") → \(archived.target ?? "")") }
            if archived.kind != .link && archived.mode != now.mode { differences.append("mode \(now.mode) → \(archived.mode)") }
            if archived.uid != now.uid || archived.gid != now.gid {
                differences.append("owner \(now.uid):\(now.gid) → \(archived.uid):\(archived.gid)")
            }
        }
        return differences.isEmpty
            ? RestoredPath(path: shown, state: .unchanged, detail: "unchanged")
            : RestoredPath(path: shown, state: .changed, detail: "changed: " + differences.joined(separator: "; "), diff: diff)
    }

    static func isText(_ bytes: [UInt8]) -> Bool {
        !bytes.contains(0) && String(validating: bytes, as: UTF8.self) != nil
    }

    private func report(_ results: [RestoredPath], _ archive: String, into findings: inout Findings) {
        func count(_ state: RestoredPath.State) -> Int { results.filter { $0.state == state }.count }
        findings.add(
            "restore", .ok,
            "from \(archive): \(count(.changed)) changed, \(count(.missing)) missing now, \(count(.unchanged)) unchanged, "
                + "\(count(.new)) new since the archive (left alone)" + (into.map { "; into \($0)" } ?? ""))
        findings.notes += results.filter { $0.state != .unchanged }.map { result in
            "\(result.path.escapingControls): \(result.detail)" + (result.diff.map { "\n" + $0.trimmed() } ?? "")
        }
        findings.set("paths", results)
    }

    /// The plan: with --to, an empty folder and every member; in place, an archive of what will
    /// be replaced, then each changed or missing path.
    private func change(
        _ results: [RestoredPath], _ entries: [ManifestEntry], _ extracted: ScratchFolder, _ run: TaskRun, _ findings: inout Findings
    ) async throws -> Findings {
        let files = run.context.files
        let states = Dictionary(results.map { ($0.path, $0.state) }, uniquingKeysWith: { first, _ in first })
        var steps: [PlanStep] = []
        var writer: ArchiveWriter?
        var makeFolder: PlanStep?
        if let into {
            if !HostFiles().list(into).isEmpty {
                throw AilabError.usage("invalid --to '\(into)': not empty")
            }
            if !HostFiles().exists(into) {
                makeFolder = PlanStep(.createDirectory(path: into, mode: 0o700), purpose: "the folder to restore into")
            }
            steps = entries.map {
                PlanStep(.restore(from: extracted.path + "/" + $0.path, to: into + "/" + $0.path), purpose: "extract into \(into)")
            }
        } else {
            let replaced = entries.filter { states["/" + $0.path] == .changed }.map { "/" + $0.path }
            let restored = entries.filter { [.changed, .missing].contains(states["/" + $0.path]) }
            steps = restored.map {
                PlanStep(
                    .restore(from: extracted.path + "/" + $0.path, to: files.path("/" + $0.path)),
                    purpose: states["/" + $0.path] == .missing ? "recreate it" : "put back the archived version")
            }
            if !replaced.isEmpty {
                try BackupDestination.check(files.path(destination), shownAs: destination)
                let folder = Paths.canonical(files.path(destination))
                if !HostFiles().exists(folder) {
                    makeFolder = PlanStep(.createDirectory(path: folder, mode: 0o700), purpose: "create the backup destination")
                }
                writer = ArchiveWriter(
                    name: ArchiveName.unused(in: folder, at: run.now, prefix: ArchiveName.preRestorePrefix), folder: folder,
                    sources: replaced,
                    root: Paths.canonical(files.path("/")),
                    excludes: BackupSources.excludes, compressor: "gzip",
                    scratch: mode?.isDryRun == false ? try ScratchFolder(run.context) : nil)
            }
        }
        let plan = Plan([makeFolder].compactMap { $0 } + (writer?.steps ?? []) + steps + (writer.map { [$0.discard] } ?? []))
        findings.plan = plan.entries
        guard let executor = try run.gate.open(plan) else { return findings }
        try extracted.checkUnmoved()
        if let makeFolder { try executor.apply(makeFolder) }
        if let writer {
            guard let written = try await writer.write(executor, run, &findings, check: "pre-restore archive") else { return findings }
            findings.add(
                "pre-restore archive", .ok, "\(written.path), \(ByteCount.format(written.bytes))",
                next: "to undo this restore: sudo ailab restore \(written.path)")
            findings.set("preRestoreArchive", written.path)
        }
        for (index, step) in steps.enumerated() {
            do {
                try executor.apply(step)
            } catch let error as AilabError {
                findings.add(
                    "restored", .failed, "\(index) of \(steps.count) path(s) restored, then: \(error.message)",
                    next: writer.map { "the pre-restore archive \($0.final) holds what was there" })
                return findings
            }
        }
        findings.add("restored", .ok, "\(steps.count) path(s) restored" + (into.map { " into \($0)" } ?? ""))
        return findings
    }
}
