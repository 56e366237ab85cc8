import AilabCore
import ArgumentParser

struct RestoreCommand: TaskCommand {
    static let configuration = CommandConfiguration(
        commandName: TaskCatalog.restore.name,
        abstract: "Puts files back from a config-backup archive (dry run unless --execute).",
        discussion: """
            ARCHIVE (a path ending in .tar.gz; default: the newest in backup.dest) and the PATHs to \
            restore (default: all). The dry run lists each path as unchanged, changed (with a unified \
            diff for text up to 64 KiB; a secret only says that its content differs), missing now, or \
            new since the archive (left alone). --execute first archives what it will replace into \
            backup.dest, then writes each file beside its target with the archived owner, mode and \
            mtime and renames it over the target, never following a link. --to extracts into an \
            empty folder instead.
            """)

    @OptionGroup var safety: SafetyOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var config: ConfigOption

    @Argument(help: "An archive (ending in .tar.gz), then the paths to restore.", transform: OptionValue.path)
    var words: [String] = []

    @Option(
        name: .customLong("to"), parsing: .unconditional, help: "Extract into this empty folder instead of in place.",
        transform: OptionValue.path)
    var into: String?

    var archive: String? { words.first.flatMap { $0.hasSuffix(".tar.gz") ? Paths.absolute($0) : nil } }
    var paths: [String] { (archive == nil ? words : Array(words.dropFirst())).map(Paths.absolute) }

    func validate() throws {
        if let into, !into.hasPrefix("/") { throw ValidationError("invalid --to '\(into)': expected an absolute path") }
    }

    var dryRun: Bool? { !safety.execute }

    func task(_ settings: AilabConfig, in context: TaskContext) throws -> any MaintenanceTask {
        RestoreTask(mode: try safety.mode(), destination: settings.backupDest.value, archive: archive, paths: paths, into: into)
    }
}
