import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// A restore drill, as borg's `extract --dry-run` and restic's `check --read-data` prove theirs:
/// the archive is extracted into a private folder and every member compared with the manifest
/// the archive carries (size, mode, owner, sha256, link target).
package enum RestoreDrill {
    package struct Outcome: Sendable {
        package var members: Int
        /// Each member that did not come back as recorded, named.
        package var problems: [String]

        package var passed: Bool { problems.isEmpty }
    }

    /// tar reading the archive from stdin into `folder`, as root restores: owners, modes, ACLs and
    /// extended attributes as recorded. tar itself refuses members with `..` and strips a leading `/`.
    static func extraction(from archive: OpenFile, into folder: String, compressor: String, members: [String] = []) -> Invocation {
        Invocation(
            "tar",
            [
                "--extract", "--file", "-", "--use-compress-program=\(compressor)", "--directory", folder, "--numeric-owner",
                "--same-owner", "--preserve-permissions", "--acls", "--xattrs", "--no-wildcards", "--no-unquote", "--",
            ] + members,
            timeout: .seconds(3600), input: archive)
    }

    /// tar's exact listing first: a member the rules refuse, one the manifest does not list, or
    /// an empty manifest fails the drill before anything is extracted.
    package static func run(_ archive: OpenFile, compressor: String, _ run: TaskRun) async throws -> Outcome {
        let listing = try await run.probe(
            Invocation(
                "tar", TarMember.arguments + ["--file", "-", "--use-compress-program=\(compressor)"], timeout: .seconds(3600),
                input: try archive.rewound()))
        // A damaged stream still lists the members before the damage; extracting them names what
        // did not come back. A listing that succeeded must be read whole.
        let (members, unreadable) = TarMember.readable(listing.stdout)
        if unreadable != nil && listing.succeeded { return Outcome(members: 0, problems: ["tar --list: its listing is not understood"]) }
        let refused = ArchiveMembers.refusals(members)
        // Past the damage, a listing shows what the damage decompressed to: then only the manifest
        // is extracted, and the members the good part of the listing lacks are named.
        let damaged = !refused.isEmpty && !listing.succeeded
        if !refused.isEmpty && !damaged { return Outcome(members: 0, problems: refused) }
        let scratch = try ScratchFolder(run.context)
        let tar = try await run.probe(
            extraction(
                from: try archive.rewound(), into: scratch.path, compressor: compressor, members: damaged ? [ArchiveManifest.member] : []))
        try scratch.checkUnmoved()
        var problems = tar.succeeded ? [] : ["tar: " + ConfigBackupTask.cause(of: tar)]
        if !listing.succeeded && (tar.succeeded || damaged) { problems.append("tar --list: " + ConfigBackupTask.cause(of: listing)) }
        guard let bytes = HostFiles(root: scratch.path).bytes("/" + ArchiveManifest.member).map({ Data($0) }) else {
            problems.append("\(ArchiveManifest.member): missing, so nothing can be compared")
            return Outcome(members: 0, problems: problems)
        }
        let manifest = try ArchiveManifest.parse(bytes)
        if damaged {
            let readable = Set(members.map(\.name))
            problems += manifest.entries.filter { !readable.contains($0.path) }.map { "/\($0.path): missing from the archive" }
            return Outcome(members: manifest.entries.count, problems: problems)
        }
        if manifest.entries.isEmpty { problems.append("the manifest lists no member") }
        let listed = Set(manifest.entries.map(\.path))
        // Only a whole listing says what the archive holds; a damaged one fails on its own.
        let unlisted = listing.succeeded ? members.map(\.name).filter { $0 != ArchiveManifest.member && !listed.contains($0) } : []
        problems += unlisted.map {
            "/\($0): in the archive but not in its manifest"
        }
        problems += try await compare(manifest, extractedIn: scratch.path, run)
        return Outcome(members: manifest.entries.count, problems: problems)
    }

    /// The first problems, and how many more: enough to act on, short enough for one line.
    package static func summary(_ problems: [String]) -> String {
        problems.prefix(5).joined(separator: "; ") + (problems.count > 5 ? "; and \(problems.count - 5) more" : "")
    }

    /// Each member as the manifest records it against what came out of the archive.
    static func compare(_ manifest: ArchiveManifest, extractedIn folder: String, _ run: TaskRun) async throws -> [String] {
        let files = manifest.entries.filter { $0.kind == .file }.map { folder + "/" + $0.path }
        let digests = try await FileDigests.sha256(files, run)
        return manifest.entries.compactMap { recorded in
            guard var found = ManifestEntry.observe(folder + "/" + recorded.path, as: recorded.path) else {
                return "/\(recorded.path): missing from the archive"
            }
            found.sha256 = recorded.kind == .file ? digests[folder + "/" + recorded.path] : nil
            return difference(recorded, found).map { "/\(recorded.path): \($0)" }
        }
    }

    /// How `found` differs from `recorded`, in words; nil when it does not.
    static func difference(_ recorded: ManifestEntry, _ found: ManifestEntry) -> String? {
        var differences: [String] = []
        if recorded.kind != found.kind { return "a \(found.kind.rawValue), recorded as a \(recorded.kind.rawValue)" }
        if recorded.kind == .file && recorded.size != found.size { differences.append("\(found.size) bytes, recorded \(recorded.size)") }
        if recorded.kind == .file && recorded.sha256 != found.sha256 { differences.append("content differs (sha256)") }
        if recorded.target != found.target { differences.append("link target \(found.target ?? "?"), recorded \(recorded.target ?? "?")") }
        if recorded.kind != .link && recorded.mode != found.mode { differences.append("mode \(found.mode), recorded \(recorded.mode)") }
        if recorded.uid != found.uid || recorded.gid != found.gid {
            differences.append("owner \(found.uid):\(found.gid), recorded \(recorded.uid):\(recorded.gid)")
        }
        return differences.isEmpty ? nil : differences.joined(separator: "; ")
    }
}

/// The last restore drill that passed: healthcheck names it, the metrics carry its time.
/// Kept in ailab's records.
package struct VerifiedRestore: Sendable, Codable, Equatable {
    package var archive: String
    package var members: Int
    /// Seconds since the epoch.
    package var time: Double

    /// nil when no drill was recorded; a record that cannot be trusted, or is no drill, is refused.
    static func load(_ records: any Records) throws -> VerifiedRestore? {
        guard let text = try records.read(.restoreDrill) else { return nil }
        guard let verified = try? JSONDecoder().decode(VerifiedRestore.self, from: Data(text.utf8)) else {
            throw AilabError.failed("record \(Record.restoreDrill) refused: it is not a drill record")
        }
        return verified
    }

    func save(_ records: any Records) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try records.write(.restoreDrill, String(decoding: try encoder.encode(self), as: UTF8.self) + "\n")
    }

    static let metric = "ailab_backup_restore_verified_timestamp_seconds"
    static let help = "When a restore drill last extracted a config-backup archive and matched its manifest."
}
