import AilabCore
import ArgumentParser

struct KernelCleanupCommand: PackageCleanupCommand {
    typealias Task = KernelCleanupTask

    static let configuration = CommandConfiguration(
        commandName: TaskCatalog.kernelCleanup.name,
        abstract: "Removes old kernel images through APT, keeping at least two and the running one (dry run unless --execute).",
        discussion: """
            Refuses (exit 1) when fewer than two versioned kernel images would remain, when the running \
            kernel's image would go, or when protected packages would go. Prints /boot free space and a \
            review list (DKMS, NVIDIA driver, Secure Boot).
            """)

    @OptionGroup var safety: SafetyOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var config: ConfigOption
    @OptionGroup var lock: LockTimeoutOption
}
