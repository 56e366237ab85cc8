import AilabCore
import ArgumentParser
import Foundation

struct DiskWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disk-watch",
        abstract: "Checks every real filesystem's block and inode use against a threshold.",
        discussion: "Exit 1 when any filesystem is at or above the threshold. Deletes nothing.")

    @OptionGroup var output: OutputOptions

    @Option(parsing: .unconditional,
            help: "Use% (1–100) at or above which a filesystem is a warning. Default: $AILAB_DISK_THRESHOLD, else 85.",
            transform: OptionValue.integer(1...100, "a whole percentage"))
    var threshold: Int?

    func validate() throws {
        _ = try resolvedThreshold()
    }

    func resolvedThreshold() throws -> Int {
        try asValidation { try DiskThreshold.resolve(flag: threshold, environment: ProcessInfo.processInfo.environment) }
    }

    func run() async throws {
        let task = DiskWatchTask(threshold: try resolvedThreshold())
        try output.finish(try await TaskHarness.run(task, in: .live()))
    }
}
