import AilabCore
import ArgumentParser

struct UpgradeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: TaskCatalog.upgrade.name,
        abstract: "Upgrades the packages with apt-get dist-upgrade behind GPU-aware guards (dry run unless --execute).",
        discussion: """
            Simulates apt-get dist-upgrade and refuses (exit 1) when a protected GPU/CUDA/container/\
            virtualisation package would be removed, when the NVIDIA driver would be upgraded under the \
            loaded module (unless --allow-driver-upgrade), or when /boot is too small for a new kernel. \
            Packages an interrupted dpkg left half-way also refuse. With --execute: apt-get update \
            first, the plan from the fresh lists, apt-get -y dist-upgrade keeping changed configuration \
            files, then the next boot's NVIDIA module, the reboot and the services to restart are \
            checked. A signal during the package change lets it finish, then ailab exits 1.
            """)

    @OptionGroup var safety: SafetyOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var config: ConfigOption
    @OptionGroup var lock: LockTimeoutOption

    @Flag(help: "Let the NVIDIA driver be upgraded (drain the host first; it needs a reboot afterwards).")
    var allowDriverUpgrade = false

    @Flag(help: "Upgrade only the packages whose candidate comes from a security pocket (*-security, Debian-Security).")
    var security = false

    func run() async throws {
        let task = UpgradeTask(
            mode: try safety.mode(), lockTimeout: lock.lockTimeout, allowDriverUpgrade: allowDriverUpgrade,
            securityOnly: security)
        try await output.run(task, in: .live())
    }
}
