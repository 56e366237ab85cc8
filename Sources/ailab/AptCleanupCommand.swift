import AilabCore
import ArgumentParser

struct AptCleanupCommand: PackageCleanupCommand {
    typealias Task = AptCleanupTask

    static let configuration = CommandConfiguration(
        commandName: TaskCatalog.aptCleanup.name,
        abstract: "Purges unused packages and stale package files (dry run unless --execute).",
        discussion: """
            Simulates apt-get autoremove --purge and autoclean and refuses (exit 1) when a kernel guard \
            or a protected GPU/CUDA/container/virtualisation package would be hit. With --execute: \
            apt-get update, apt-get -y autoremove --purge, apt-get autoclean.
            """)

    @OptionGroup var safety: SafetyOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var config: ConfigOption
    @OptionGroup var lock: LockTimeoutOption
}
