import AilabCore
import ArgumentParser

struct ConfigBackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-backup",
        abstract: "Archives /etc, root's shell files and the VM definitions into a verified tar.gz (dry run unless --execute).",
        discussion: """
            The archive (mode 0600, it holds /etc/shadow) is written into a new file ailab creates \
            and holds open, verified (the gzip stream's CRC and length, and a full tar listing) and \
            published under its final name. Only then are archives older than --retention-days \
            deleted, always keeping the newest --keep-min. Uses pigz when installed. The destination \
            must be a real folder owned by root and writable by no one else.
            """)

    @OptionGroup var safety: SafetyOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Folder for the archives (created with mode 0700).")
    var dest = ArchiveName.defaultFolder

    @Option(help: "Delete archives older than this many days.")
    var retentionDays = 30

    @Option(help: "Always keep at least this many of the newest archives.")
    var keepMin = 3

    @Option(help: "Another file or folder to archive (repeatable).")
    var include: [String] = []

    func validate() throws {
        guard retentionDays >= 0 else { throw ValidationError("invalid --retention-days '\(retentionDays)': expected a non-negative integer") }
        guard keepMin >= 0 else { throw ValidationError("invalid --keep-min '\(keepMin)': expected a non-negative integer") }
        guard dest.hasPrefix("/") else { throw ValidationError("invalid --dest '\(dest)': expected an absolute path") }
        if let empty = include.first(where: \.isEmpty) { throw ValidationError("invalid --include '\(empty)': expected a path") }
    }

    func run() async throws {
        let task = ConfigBackupTask(mode: try safety.mode(), destination: dest, retentionDays: retentionDays,
                                    keepMin: keepMin, includes: include.map(Paths.absolute))
        try output.finish(try await TaskHarness.run(task, in: .live()))
    }
}
