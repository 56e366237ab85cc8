import AilabCore
import ArgumentParser
import Foundation

struct HealthcheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Reports on the whole host: system, storage, services, containers, VMs, GPUs, SMART, backups.",
        discussion: """
            Probes run side by side, each bounded by --timeout. A component that is not installed is \
            'absent' and does not fail the run; any failed check exits 1. The disk threshold comes from \
            AILAB_DISK_THRESHOLD (default 85).
            """)

    @OptionGroup var output: OutputOptions

    @Option(name: .customLong("output"), parsing: .unconditional,
            help: "Also write the report to this file (atomically, mode 0600).", transform: OptionValue.newFile)
    var outputFile: String?

    @Option(parsing: .unconditional, help: "Seconds each probe may take (1–600).", transform: OptionValue.integer(1...600, "seconds"))
    var timeout: Int = 10

    func validate() throws {
        _ = try threshold()
    }

    func threshold() throws -> Int {
        try asValidation { try DiskThreshold.resolve(flag: nil, environment: ProcessInfo.processInfo.environment) }
    }

    func run() async throws {
        let task = HealthcheckTask(timeout: .seconds(timeout), threshold: try threshold())
        let report = try await TaskHarness.run(task, in: .live())
        var written = true
        if let outputFile {
            do {
                try AtomicFile.write(output.render(report, colour: false), to: outputFile, mode: 0o600)
            } catch {
                StandardStreams.error("ailab: report not written to \(outputFile): \(error)\n")
                written = false
            }
        }
        try output.finish(report)
        if !written { throw ExitCode(ExitStatus.failed.rawValue) }
    }
}
