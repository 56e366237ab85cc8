import AilabCore
import ArgumentParser

struct UpgradeCommand: TaskCommand {
    static let configuration = CommandConfiguration(
        commandName: TaskCatalog.upgrade.name,
        abstract: "Upgrades the packages with apt-get dist-upgrade behind GPU-aware guards (dry run unless --execute).",
        discussion: """
            Simulates apt-get dist-upgrade and refuses (exit 1) when a protected GPU/CUDA/container/\
            virtualisation package would be removed, when the NVIDIA driver would be upgraded under the \
            loaded module (unless --allow-driver-upgrade), or when /boot is too small for a new kernel. \
            Packages an interrupted dpkg left half-way also refuse. With --execute: apt-get update \
            first, the plan from the fresh lists, apt-get -y dist-upgrade keeping changed configuration \
            files, then the next boot's NVIDIA module, the reboot and the services to restart are \
            checked. A signal during the package change lets it finish, then ailab exits 1.
            """)

    @OptionGroup var safety: SafetyOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var config: ConfigOption
    @OptionGroup var lock: LockTimeoutOption

    @Flag(help: "Let the NVIDIA driver be upgraded (drain the host first; it needs a reboot afterwards).")
    var allowDriverUpgrade = false

    @Flag(help: "Upgrade only the packages whose candidate comes from a security pocket (*-security, Debian-Security).")
    var security = false

    @Flag(help: "Refuse the upgrade when the old version of a package cannot be secured for the rollback point.")
    var requireRollback = false

    @Flag(help: "List the rollback points: id, time, packages, size, complete or not.")
    var history = false

    @Flag(help: "Go back to a rollback point (ID, default: the newest): its recorded versions, marks and holds (dry run unless --execute).")
    var rollback = false

    @Argument(help: "With --rollback: the rollback point's ID (see --history).")
    var point: String?

    func validate() throws {
        if let point, !rollback { throw ValidationError("unexpected argument '\(point)': a rollback point is given only with --rollback") }
        if history && (rollback || security || requireRollback || safety.execute) {
            throw ValidationError("--history only lists; it takes no --rollback, --security, --require-rollback or --execute")
        }
        if rollback && (security || requireRollback) { throw ValidationError("--rollback takes no --security or --require-rollback") }
    }

    var dryRun: Bool? { !safety.execute }

    func task(_ settings: AilabConfig, in context: TaskContext) throws -> any MaintenanceTask {
        if history { return RollbackHistoryTask() }
        if rollback {
            return RollbackTask(
                mode: try safety.mode(), lockTimeout: lock.lockTimeout, allowDriverUpgrade: allowDriverUpgrade, pointID: point)
        }
        return UpgradeTask(
            mode: try safety.mode(), lockTimeout: lock.lockTimeout, allowDriverUpgrade: allowDriverUpgrade,
            securityOnly: security, requireRollback: requireRollback, keepPoints: settings.upgradeKeepPoints.value,
            keepBytes: settings.upgradeKeepBytes.value)
    }
}
