import FoundationEssentials

/// How old apt's package lists are: the newest file in `Dir::State::lists`.
enum PackageLists {
    /// `apt-config shell LISTS Dir::State::lists/d` prints `LISTS='/var/lib/apt/lists/'`.
    static func folder(_ output: String, variable: String = "LISTS") -> String? {
        guard let line = output.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix(variable + "=") }) else { return nil }
        let value = line.dropFirst(variable.count + 1).trimmed { $0 == "'" }
        return value.isEmpty ? nil : String(value)
    }

    /// One line for the report: "updated 3d 2h ago; --execute refreshes them …".
    static func ageCheck(_ run: TaskRun, _ commands: AptCommands) async throws -> Check {
        guard run.isInstalled(commands.listsFolder.executable) else { return Check("package lists", .ok, "age unknown (no apt-config)") }
        let answer = try await run.probe(commands.listsFolder)
        let folder = answer.succeeded ? folder(answer.stdout) : nil
        let entries = folder.flatMap { try? FolderEntry.list(run.context.files.path($0)) } ?? []
        let refresh = "--execute refreshes them (apt-get update) before it plans"
        guard let newest = entries.filter({ $0.isRegularFile && $0.name != "lock" }).map(\.modified).max() else {
            return Check("package lists", .ok, "never updated; \(refresh)")
        }
        let age = HostFacts.duration(max(0, run.now.timeIntervalSince(newest)))
        return Check("package lists", .ok, "updated \(age) ago; \(refresh)")
    }

    /// An execute plans on fresh lists: apt-get update first, through the gate. A dry run leaves
    /// the lists alone and says how old they are. False when the update failed.
    static func refresh(_ run: TaskRun, _ commands: AptCommands, _ findings: inout Findings) async throws -> Bool {
        guard let refresh = try await run.gate.prepare(commands.update) else {
            findings.add(try await ageCheck(run, commands))
            return true
        }
        findings.add(
            "apt-get update", refresh.succeeded ? .ok : .failed,
            refresh.succeeded ? "package lists refreshed before planning" : AptFailure.summary(refresh),
            next: "fix the source or network it names (sudo apt-get update shows it), then run again")
        return refresh.succeeded
    }
}
