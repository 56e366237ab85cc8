import AilabCore
import ArgumentParser

/// apt-cleanup's and kernel-cleanup's one set of options and their one way to the task.
protocol PackageCleanupCommand: TaskCommand {
    associatedtype Task: PackageCleanupTask
    var safety: SafetyOptions { get }
    var lock: LockTimeoutOption { get }
}

extension PackageCleanupCommand {
    var dryRun: Bool? { !safety.execute }

    func task(_ settings: AilabConfig, in context: TaskContext) throws -> any MaintenanceTask {
        Task(mode: try safety.mode(), lockTimeout: lock.lockTimeout)
    }
}
