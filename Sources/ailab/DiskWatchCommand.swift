import AilabCore
import ArgumentParser

struct DiskWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disk-watch",
        abstract: "Checks every real filesystem's block and inode use against a threshold.",
        discussion: "Exit 1 when any filesystem is at or above the threshold. Deletes nothing.")

    @OptionGroup var output: OutputOptions
    @OptionGroup var config: ConfigOption

    @Option(parsing: .unconditional,
            help: "Use% (1–100) at or above which a filesystem fails. Default: disk.threshold, $AILAB_DISK_THRESHOLD, else 85.",
            transform: OptionValue.integer(1...100, "a whole percentage"))
    var threshold: Int?

    func run() async throws {
        let settings = try config.load()
        let task = DiskWatchTask(threshold: settings.diskThreshold.overridden(by: threshold).value)
        try output.finish(try await TaskHarness.run(task, in: .live()))
    }
}
