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

    @Option(parsing: .unconditional, help: "Folder for the archives (created with mode 0700; a real folder owned by root, writable by no one else).",
            transform: OptionValue.path)
    var dest = ArchiveName.defaultFolder

    @Option(parsing: .unconditional, help: "Delete archives older than this many days (0–36500).",
            transform: OptionValue.integer(0...36500, "days"))
    var retentionDays = 30

    @Option(parsing: .unconditional, help: "Always keep at least this many of the newest archives (0–10000).",
            transform: OptionValue.integer(0...10000))
    var keepMin = 3

    @Option(parsing: .unconditionalSingleValue, help: "Another file or folder to archive (repeatable).", transform: OptionValue.path)
    var include: [String] = []

    func validate() throws {
        guard dest.hasPrefix("/") else { throw ValidationError("invalid --dest '\(dest)': expected an absolute path") }
    }

    func run() async throws {
        let task = ConfigBackupTask(mode: try safety.mode(), destination: dest, retentionDays: retentionDays,
                                    keepMin: keepMin, includes: include.map(Paths.absolute))
        try output.finish(try await TaskHarness.run(task, in: .live()))
    }
}
