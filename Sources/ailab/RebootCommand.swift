import AilabCore
import ArgumentParser

struct RebootCommand: TaskCommand {
    static let configuration = CommandConfiguration(
        commandName: TaskCatalog.reboot.name,
        abstract: "Reboots the host when a reboot is pending and no job would be lost (dry run unless --execute).",
        discussion: """
            Pending: /run/reboot-required, a newer kernel than the running one (needrestart's verdict \
            where installed), or an NVIDIA module that no longer matches its library. Nothing pending \
            is exit 0. Refused (exit 1), each reason named, while a GPU compute process runs, a VM runs, \
            someone else is logged in (reboot.when_users), dpkg's lock is held, or healthcheck fails on \
            something a reboot would not fix; one --allow-… flag per reason overrides it. The reboot is \
            logind's scheduled shutdown at --at, else at the next opening of reboot.window, else now, \
            and a transient timer checks the jobs again 5 minutes before. --status shows it, --cancel \
            removes it.
            """)

    @OptionGroup var safety: SafetyOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var config: ConfigOption

    @Option(
        parsing: .unconditional,
        help: "When to reboot, as shutdown(8) takes it: HH:MM, +MINUTES or now. Default: reboot.window's next opening, else now.",
        transform: { text in
            guard let time = RebootTime(text) else { throw ValidationError("expected HH:MM, +MINUTES or now") }
            return time
        })
    var at: RebootTime?

    @Flag(help: "Show the scheduled reboot: when, why and by whom, and what is pending.")
    var status = false

    @Flag(help: "Cancel the scheduled reboot and its re-check (dry run unless --execute).")
    var cancel = false

    @Flag(help: "Reboot now only inside reboot.window (what ailab-reboot.timer runs); outside it, do nothing.")
    var inWindow = false

    @Flag(help: "What the re-check timer runs before the time: cancel the reboot when a job started since.")
    var recheck = false

    @Flag(help: "Reboot although GPU compute processes run.") var allowGPUJobs = false
    @Flag(help: "Reboot although VMs run.") var allowVMs = false
    @Flag(help: "Reboot although other people are logged in.") var allowUsers = false
    @Flag(help: "Reboot although dpkg's lock is held.") var allowDpkgLock = false
    @Flag(help: "Reboot although healthcheck fails on something a reboot would not fix.") var allowUnhealthy = false

    func validate() throws {
        let actions = [status, cancel, inWindow, recheck, at != nil].filter { $0 }.count
        if actions > 1 { throw ValidationError("--at, --status, --cancel, --in-window and --recheck exclude each other") }
        if status && safety.execute { throw ValidationError("--status only shows; it takes no --execute") }
        if recheck && safety.execute { throw ValidationError("--recheck is the timer's own run; it takes no --execute") }
        if (status || cancel) && overrides != RebootOverrides() { throw ValidationError("--status and --cancel take no --allow-… flag") }
    }

    var overrides: RebootOverrides {
        RebootOverrides(gpuJobs: allowGPUJobs, vms: allowVMs, users: allowUsers, dpkgLock: allowDpkgLock, unhealthy: allowUnhealthy)
    }

    var dryRun: Bool? { status ? nil : !(safety.execute || recheck) }

    func task(_ settings: AilabConfig, in context: TaskContext) throws -> any MaintenanceTask {
        let action: RebootTask.Action =
            status ? .status : cancel ? .cancel : recheck ? .recheck : inWindow ? .inWindow : .schedule(at)
        let mode: RunMode? = status ? nil : recheck ? .execute(interactive: false) : try safety.mode()
        return RebootTask(
            action: action, mode: mode, overrides: overrides, window: RebootWindow(settings.rebootWindow.value),
            whenUsers: UsersPolicy(rawValue: settings.rebootWhenUsers.value) ?? .refuse,
            health: HealthcheckCommand.task(settings))
    }
}
