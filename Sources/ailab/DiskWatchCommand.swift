import AilabCore
import ArgumentParser

struct DiskWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: TaskCatalog.diskWatch.name,
        abstract: "Checks every real filesystem's block and inode use against a threshold.",
        discussion: "Exit 1 when any filesystem is at or above the threshold. Deletes nothing.")

    @OptionGroup var output: OutputOptions
    @OptionGroup var config: ConfigOption
    @OptionGroup var disk: ThresholdOption

    func run() async throws {
        let settings = try output.settings(config, task: TaskCatalog.diskWatch.name)
        let task = DiskWatchTask(threshold: settings.diskThreshold.overridden(by: disk.threshold).value)
        try await output.run(task, in: .live())
    }
}
