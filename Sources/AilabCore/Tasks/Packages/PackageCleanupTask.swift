/// apt-cleanup and kernel-cleanup: each is a mode and apt's lock timeout, nothing else.
package protocol PackageCleanupTask: MaintenanceTask {
    init(mode: RunMode, lockTimeout: Int)
}
