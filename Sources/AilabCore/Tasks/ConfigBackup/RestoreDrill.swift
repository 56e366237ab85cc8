import FoundationEssentials

/// A restore drill, as borg's `extract --dry-run` and restic's `check --read-data` prove theirs:
/// the archive is decompressed once (its gzip CRC and length checked), its tar stream read as it
/// passes, and every member compared with the manifest the archive carries (size, mode, owner,
/// sha256, link target) as its headers give them, which is what a restore applies. Nothing is
/// extracted.
package enum RestoreDrill {
    package struct Outcome: Sendable {
        package var members: Int
        /// Each member that did not come back as recorded, named.
        package var problems: [String]

        package var passed: Bool { problems.isEmpty }
    }

    /// pigz where it is installed (it decompresses faster), else gzip.
    package static func decompressor(_ run: TaskRun) -> String {
        run.isInstalled("pigz") ? "pigz" : "gzip"
    }

    /// A member the rules refuse, one the manifest does not list, or an empty manifest fails the
    /// drill; so do a damaged stream and a manifest that cannot be read.
    package static func run(_ archive: OpenFile, decompressor: String, _ run: TaskRun) async throws -> Outcome {
        let stream = TarStream(keeping: ArchiveManifest.member)
        let result = try await run.stream(
            Invocation(decompressor, ["--decompress", "--stdout"], timeout: .seconds(3600), input: try archive.rewound()), into: stream)
        var problems = result.succeeded ? [] : ["\(decompressor): " + ConfigBackupTask.cause(of: result)]
        if let damage = stream.damage { problems.append(damage) }
        let whole = problems.isEmpty
        let refused = ArchiveMembers.refusals(stream.members.map(\.header))
        if !refused.isEmpty && whole { return Outcome(members: 0, problems: refused) }
        guard let bytes = stream.kept, let manifest = try? ArchiveManifest.parse(Data(bytes)) else {
            let carried = stream.members.contains { $0.header.name == ArchiveManifest.member }
            problems.append("/\(ArchiveManifest.member): \(carried ? "unreadable" : "missing"), so no member can be compared")
            return Outcome(members: 0, problems: problems + refused)
        }
        if manifest.entries.isEmpty { problems.append("the manifest lists no member") }
        let members = stream.members.filter { $0.header.name != ArchiveManifest.member }
        return Outcome(members: manifest.entries.count, problems: problems + refused + compare(manifest, members, whole: whole))
    }

    /// The first problems, and how many more: enough to act on, short enough for one line.
    package static func summary(_ problems: [String]) -> String {
        problems.prefix(5).joined(separator: "; ") + (problems.count > 5 ? "; and \(problems.count - 5) more" : "")
    }

    /// Each member as the manifest records it against what the archive holds (the last of a
    /// name, as tar restores it). Only a whole stream says what the archive holds beyond that.
    static func compare(_ manifest: ArchiveManifest, _ members: [TarStream.Member], whole: Bool) -> [String] {
        var found: [String: TarStream.Member] = [:]
        for member in members { found[member.header.name] = member }
        let listed = Set(manifest.entries.map(\.path))
        let unlisted = whole ? members.filter { !listed.contains($0.header.name) } : []
        return unlisted.map { "/\($0.header.name): in the archive but not in its manifest" }
            + manifest.entries.compactMap { recorded in
                guard let member = found[recorded.path] else { return "/\(recorded.path): missing from the archive" }
                return difference(recorded, ManifestEntry(member)).map { "/\(recorded.path): \($0)" }
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
    static let help = "When a restore drill last read a config-backup archive back and matched its manifest."
}
