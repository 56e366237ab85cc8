import AilabCore
import ArgumentParser

struct DockerCleanupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docker-cleanup",
        abstract: "Prunes stopped containers, unused images and networks, old build cache (dry run unless --execute).",
        discussion: """
            Volumes are never pruned. Containers, images and networks labelled ailab.keep survive. \
            Exit 0 when Docker is not installed; 1 when the daemon does not answer.
            """)

    @OptionGroup var safety: SafetyOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var config: ConfigOption

    @Option(parsing: .unconditional, help: "Prune build cache unused for more than this many hours (\(Limits.cacheAgeHours.words)).",
            transform: OptionValue.integer(Limits.cacheAgeHours, "hours"))
    var cacheAge = 168

    func run() async throws {
        let task = DockerCleanupTask(mode: try safety.mode(), cacheAgeHours: cacheAge)
        try await output.run(task, in: .live())
    }
}
