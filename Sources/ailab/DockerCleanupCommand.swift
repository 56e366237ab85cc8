import AilabCore
import ArgumentParser

struct DockerCleanupCommand: TaskCommand {
    static let configuration = CommandConfiguration(
        commandName: TaskCatalog.dockerCleanup.name,
        abstract: "Removes what has been unused for a while: stopped containers, images, networks, build cache (dry run unless --execute).",
        discussion: """
            Stopped containers, unused images and unused networks older than docker.max_age_days \
            (default \(AilabConfig.defaults.dockerMaxAgeDays.value)) go, and dangling images at any age; --all prunes every unused one. Volumes \
            are never pruned. Containers, images and networks labelled ailab.keep survive. Exit 0 \
            when Docker is not installed; 1 when the daemon does not answer.
            """)

    @OptionGroup var safety: SafetyOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var config: ConfigOption

    @Option(
        parsing: .unconditional, help: "Prune build cache unused for more than this many hours (\(Limits.cacheAgeHours.words)).",
        transform: OptionValue.integer(Limits.cacheAgeHours, "hours"))
    var cacheAge = AilabConfig.dockerCacheAgeHours

    @Option(
        parsing: .unconditional,
        help:
            "Remove stopped containers, unused images and unused networks created more than this many days ago (\(Limits.dockerMaxAgeDays.words)). Default: docker.max_age_days, else \(AilabConfig.defaults.dockerMaxAgeDays.value).",
        transform: OptionValue.integer(Limits.dockerMaxAgeDays, "days"))
    var maxAge: Int?

    @Flag(help: "Remove every stopped container and every unused image and network, whatever its age (docker system prune -a).")
    var all = false

    var dryRun: Bool? { !safety.execute }

    func task(_ settings: AilabConfig, in context: TaskContext) throws -> any MaintenanceTask {
        DockerCleanupTask(
            mode: try safety.mode(), cacheAgeHours: cacheAge,
            maxAgeDays: settings.dockerMaxAgeDays.overridden(by: maxAge).value, all: all)
    }
}
