/// Whether Docker and libvirt are here at all. A client without its daemon, and without an
/// address pointing elsewhere, counts as absent: there is nothing for it to talk to.
enum ComponentPresence {
    /// Why Docker counts as absent, or nil when it is present.
    static func dockerAbsence(_ run: TaskRun) -> String? {
        if !run.isInstalled("docker") { return "docker is not installed" }
        if !run.isInstalled("dockerd") && run.context.environment["DOCKER_HOST"] == nil {
            return "docker client only: no dockerd here and no DOCKER_HOST"
        }
        return nil
    }

    /// Why libvirt counts as absent, or nil when it is present or a URI was given.
    static func libvirtAbsence(_ run: TaskRun, connect: String? = nil) -> String? {
        if !run.isInstalled("virsh") { return "virsh is not installed (libvirt-clients)" }
        let daemons = ["libvirtd", "virtqemud", "virtproxyd"]
        if !daemons.contains(where: run.isInstalled) && connect == nil && run.context.environment["LIBVIRT_DEFAULT_URI"] == nil {
            return "virsh client only: no libvirt daemon here, no --connect and no LIBVIRT_DEFAULT_URI"
        }
        return nil
    }
}
