import AilabCore
import ArgumentParser

struct DiskWatchCommand: TaskCommand {
    static let configuration = CommandConfiguration(
        commandName: TaskCatalog.diskWatch.name,
        abstract: "Checks every real filesystem's block and inode use against a threshold.",
        discussion: "Exit 1 when any filesystem is at or above the threshold. Deletes nothing.")

    @OptionGroup var output: OutputOptions
    @OptionGroup var config: ConfigOption
    @OptionGroup var disk: ThresholdOption

    func task(_ settings: AilabConfig, in context: TaskContext) -> any MaintenanceTask {
        DiskWatchTask(threshold: settings.diskThreshold.overridden(by: disk.threshold).value)
    }
}
