import AilabCore
import ArgumentParser

struct ConfigBackupCommand: TaskCommand {
    static let configuration = CommandConfiguration(
        commandName: TaskCatalog.configBackup.name,
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
    @OptionGroup var config: ConfigOption

    @Option(
        parsing: .unconditional,
        help:
            "Folder for the archives (a real folder owned by root, writable by no one else; created 0700). Default: backup.dest, else /srv/backups/ailab-config.",
        transform: OptionValue.path)
    var dest: String?

    @Option(
        parsing: .unconditional,
        help:
            "Delete archives older than this many days (\(Limits.retentionDays.words)). Default: backup.retention_days, else \(AilabConfig.defaults.backupRetentionDays.value).",
        transform: OptionValue.integer(Limits.retentionDays, "days"))
    var retentionDays: Int?

    @Option(
        parsing: .unconditional,
        help:
            "Always keep at least this many of the newest archives (\(Limits.keepMin.words)). Default: backup.keep_min, else \(AilabConfig.defaults.backupKeepMin.value).",
        transform: OptionValue.integer(Limits.keepMin))
    var keepMin: Int?

    @Option(parsing: .unconditionalSingleValue, help: "Another file or folder to archive (repeatable).", transform: OptionValue.path)
    var include: [String] = []

    @Flag(help: "Run a restore drill instead: read ARCHIVE (default: the newest in the destination) and match its manifest.")
    var verifyRestore = false

    @Argument(help: "With --verify-restore: the archive to drill.", transform: OptionValue.path)
    var archive: String?

    func validate() throws {
        if let dest, !dest.hasPrefix("/") { throw ValidationError("invalid --dest '\(dest)': expected an absolute path") }
        if let archive, !verifyRestore {
            throw ValidationError("unexpected argument '\(archive)': an archive is given only with --verify-restore")
        }
    }

    var dryRun: Bool? { !safety.execute }

    func task(_ settings: AilabConfig, in context: TaskContext) throws -> any MaintenanceTask {
        if verifyRestore {
            return RestoreDrillTask(destination: settings.backupDest.overridden(by: dest).value, archive: archive.map(Paths.absolute))
        }
        return ConfigBackupTask(
            mode: try safety.mode(), destination: settings.backupDest.overridden(by: dest).value,
            retentionDays: settings.backupRetentionDays.overridden(by: retentionDays).value,
            keepMin: settings.backupKeepMin.overridden(by: keepMin).value, includes: include.map(Paths.absolute))
    }
}
