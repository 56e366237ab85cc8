import AilabCore
import ArgumentParser

struct Ailab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ailab",
        abstract: "Keeps an Ubuntu AI-lab host (GPUs, Docker, libvirt) healthy.",
        discussion: """
            Reports are read-only. Change tasks (cleanups, config-backup, upgrade) are dry runs unless --execute is given, and then \
            ask for EXECUTE to be typed (or take --non-interactive, as the systemd timers do).
            Exit codes: 0 done, 1 a check or action failed, 2 invalid input or missing privilege.
            """,
        version: AilabVersion.current,
        groupedSubcommands: [
            CommandGroup(name: "Reports (read-only)", subcommands: [HealthcheckCommand.self, DiskWatchCommand.self, VMAuditCommand.self]),
            CommandGroup(
                name: "Changes (dry run unless --execute)",
                subcommands: [
                    AptCleanupCommand.self, KernelCleanupCommand.self, DockerCleanupCommand.self, ConfigBackupCommand.self,
                    RestoreCommand.self, UpgradeCommand.self, RebootCommand.self,
                ]),
            CommandGroup(
                name: "Configuration, history and notifications",
                subcommands: [ConfigCommand.self, HistoryCommand.self, AckCommand.self, NotifyCommand.self]),
        ]
    )
}
