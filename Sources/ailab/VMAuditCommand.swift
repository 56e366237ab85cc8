import AilabCore
import ArgumentParser

struct VMAuditCommand: TaskCommand {
    static let configuration = CommandConfiguration(
        commandName: TaskCatalog.vmAudit.name,
        abstract: "Lists libvirt domains, storage pools, volumes and unreferenced image files. Read-only.",
        discussion: """
            Image files (*.qcow2 *.img *.raw *.iso) under the pools' target paths and /var/lib/libvirt/images \
            that no domain's disk points at are flagged 'unreferenced'. Nothing is deleted. Exit 1 when \
            libvirt cannot be reached; 0 when virsh is not installed.
            """)

    @OptionGroup var output: OutputOptions
    @OptionGroup var config: ConfigOption

    @Option(
        parsing: .unconditional, help: "libvirt URI (default: $LIBVIRT_DEFAULT_URI, else virsh's own default).",
        transform: OptionValue.libvirtURI)
    var connect: String?

    func task(_ settings: AilabConfig, in context: TaskContext) -> any MaintenanceTask {
        VMAuditTask(connect: connect)
    }
}
