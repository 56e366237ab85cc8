import AilabCore
import ArgumentParser
import FoundationEssentials

struct HealthcheckCommand: TaskCommand {
    static let configuration = CommandConfiguration(
        commandName: TaskCatalog.healthcheck.name,
        abstract: "Reports on the whole host: system, storage, services, containers, VMs, GPUs, SMART, backups.",
        discussion: """
            Probes run side by side, each bounded by --timeout. A component that is not installed is \
            'absent' and does not fail the run; any failed check exits 1. The disk threshold comes from \
            --threshold, disk.threshold in the configuration file or AILAB_DISK_THRESHOLD (default \(AilabConfig.defaults.diskThreshold.value)). \
            The expectations section checks what the configuration file's expect: section declares.
            """)

    @OptionGroup var output: OutputOptions
    @OptionGroup var config: ConfigOption

    @Option(
        name: .customLong("output"), parsing: .unconditional,
        help: "Also write the report to this file (atomically, mode 0600).", transform: OptionValue.newFile)
    var outputFile: String?

    @Option(
        parsing: .unconditional,
        help:
            "Seconds each probe may take (\(Limits.timeout.words)). Default: healthcheck.timeout, else \(AilabConfig.defaults.healthcheckTimeout.value).",
        transform: OptionValue.integer(Limits.timeout, "seconds"))
    var timeout: Int?

    @OptionGroup var disk: ThresholdOption

    func task(_ settings: AilabConfig, in context: TaskContext) -> any MaintenanceTask {
        Self.task(settings, timeout: timeout, threshold: disk.threshold)
    }

    /// The healthcheck as configured, flags winning; `ailab reboot` runs it too.
    static func task(_ settings: AilabConfig, timeout: Int? = nil, threshold: Int? = nil) -> HealthcheckTask {
        HealthcheckTask(
            timeout: .seconds(settings.healthcheckTimeout.overridden(by: timeout).value),
            threshold: settings.diskThreshold.overridden(by: threshold).value,
            backupFolder: settings.backupDest.value, backupMaxAge: .seconds(settings.backupMaxAgeHours.value * 3600),
            expectations: settings.expect)
    }
}
