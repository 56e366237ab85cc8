import AilabCore
import ArgumentParser

struct LockTimeoutOption: ParsableArguments {
    @Option(help: "Seconds apt-get waits for the dpkg lock before giving up (exit 1).")
    var lockTimeout: Int = 300

    func validate() throws {
        guard lockTimeout >= 0 else {
            throw ValidationError("invalid --lock-timeout '\(lockTimeout)': expected a non-negative integer")
        }
    }
}

struct AptCleanupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apt-cleanup",
        abstract: "Purges unused packages and stale package files (dry run unless --execute).",
        discussion: """
            Simulates apt-get autoremove --purge and autoclean and refuses (exit 1) when a kernel guard \
            or a protected GPU/CUDA/container/virtualisation package would be hit. With --execute: \
            apt-get update, apt-get -y autoremove --purge, apt-get autoclean.
            """)

    @OptionGroup var safety: SafetyOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var lock: LockTimeoutOption

    func run() async throws {
        let task = AptCleanupTask(mode: try safety.mode(), lockTimeout: lock.lockTimeout)
        try output.finish(try await TaskHarness.run(task, in: .live()))
    }
}

struct KernelCleanupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel-cleanup",
        abstract: "Removes old kernel images through APT, keeping at least two and the running one (dry run unless --execute).",
        discussion: """
            Refuses (exit 1) when fewer than two versioned kernel images would remain, when the running \
            kernel's image would go, or when protected packages would go. Prints /boot free space and a \
            review list (DKMS, NVIDIA driver, Secure Boot).
            """)

    @OptionGroup var safety: SafetyOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var lock: LockTimeoutOption

    func run() async throws {
        let task = KernelCleanupTask(mode: try safety.mode(), lockTimeout: lock.lockTimeout)
        try output.finish(try await TaskHarness.run(task, in: .live()))
    }
}
