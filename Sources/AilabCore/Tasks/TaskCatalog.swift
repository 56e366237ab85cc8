/// What a task does to the host, which decides whether installing turns its timer on.
package enum TaskKind: String, Sendable {
    /// Reads and reports: healthcheck, disk-watch, vm-audit.
    case readOnly = "read-only"
    /// Adds without taking anything away: config-backup writes archives.
    case additive
    /// Removes or upgrades: the cleanups and upgrade. Dry run first; its timer starts disabled.
    case changing
}

/// One task, declared once: the commands, the units' check, the services section, install.sh's
/// check and every test that walks tasks read it here.
package struct TaskEntry: Sendable {
    package let name: String
    package let kind: TaskKind
    /// The timer's `OnCalendar=`; nil for a task with no unit.
    package let schedule: String?
    /// Executables the task cannot work without, with the package that brings each.
    package let requiredTools: [(command: String, package: String)]
    /// JSON lists the task always prints, `[]` when empty.
    package let lists: [String]

    /// Installing enables the timers of the tasks that only read or add.
    package var enabledOnInstall: Bool { schedule != nil && kind != .changing }
}

package enum TaskCatalog {
    static let apt = [(command: "apt-get", package: "apt"), (command: "dpkg-query", package: "dpkg")]
    static let archive = [(command: "tar", package: "tar"), (command: "gzip", package: "gzip")]
    /// What a rollback point is made with: where old versions are, the .debs checked and copied, /etc archived.
    static let rollbackPoint =
        [(command: "apt-cache", package: "apt"), (command: "apt-config", package: "apt"), (command: "dpkg-deb", package: "dpkg")]
        + [(command: "cp", package: "coreutils")] + archive

    package static let healthcheck = TaskEntry(
        name: "healthcheck", kind: .readOnly, schedule: "hourly", requiredTools: [],
        lists: [
            "filesystems", "blockDevices", "failedUnits", "unhealthyContainers", "dockerDisk", "domains", "gpus", "xids", "smart",
            "listeners", "interruptedPackages", "kernelEvents", "heldPackages", "upgradable",
        ])
    package static let diskWatch = TaskEntry(
        name: "disk-watch", kind: .readOnly, schedule: "hourly", requiredTools: [(command: "df", package: "coreutils")],
        lists: ["filesystems"])
    package static let vmAudit = TaskEntry(
        name: "vm-audit", kind: .readOnly, schedule: nil, requiredTools: [], lists: ["domains", "pools", "volumes", "images"])
    package static let aptCleanup = TaskEntry(
        name: "apt-cleanup", kind: .changing, schedule: "Sun *-*-* 04:00:00", requiredTools: apt, lists: ["removals", "protected"])
    package static let kernelCleanup = TaskEntry(
        name: "kernel-cleanup", kind: .changing, schedule: "Sun *-*-* 04:20:00", requiredTools: apt, lists: ["removals", "protected"])
    package static let dockerCleanup = TaskEntry(
        name: "docker-cleanup", kind: .changing, schedule: "Sun *-*-* 04:40:00", requiredTools: [], lists: [])
    package static let configBackup = TaskEntry(
        name: "config-backup", kind: .additive, schedule: "*-*-* 03:30:00",
        requiredTools: archive, lists: ["sources", "expired"])
    package static let upgrade = TaskEntry(
        name: "upgrade", kind: .changing, schedule: "Tue *-*-* 03:00:00", requiredTools: apt + rollbackPoint,
        lists: ["upgrades", "installs", "removals", "keptBack", "held", "driverPackages", "gpuProcesses"])

    package static let restore = TaskEntry(
        name: "restore", kind: .changing, schedule: nil,
        requiredTools: archive + [(command: "diff", package: "diffutils")], lists: ["paths"])

    /// The opt-in timer's runs: every quarter hour, rebooting only inside reboot.window.
    package static let reboot = TaskEntry(
        name: "reboot", kind: .changing, schedule: "*:0/15", requiredTools: [], lists: ["pending"])

    /// In the order `--help` lists them.
    package static let all = [
        healthcheck, diskWatch, vmAudit, aptCleanup, kernelCleanup, dockerCleanup, configBackup, restore, upgrade, reboot,
    ]

    /// The tasks with a systemd unit and timer.
    package static var scheduled: [TaskEntry] { all.filter { $0.schedule != nil } }

    package static func entry(_ name: String) -> TaskEntry? { all.first { $0.name == name } }
}
