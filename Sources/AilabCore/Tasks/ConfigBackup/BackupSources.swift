/// What config-backup archives, and the large data it always leaves out.
package enum BackupSources {
    package static let defaults = [
        "/etc", "/root/.bashrc", "/root/.profile", "/root/.bash_aliases", "/opt/ailab-maintenance", "/var/lib/libvirt/qemu",
    ]

    /// Member-name patterns tar leaves out: images, Docker's data, saved VM memory.
    package static let excludes = [
        "var/lib/docker", "var/lib/libvirt/qemu/save", "*.qcow2", "*.img", "*.raw", "*.iso", "*.vmdk", "*.safetensors",
        "*.gguf",
    ]

    /// Each source once: repeated paths, and paths inside another source, would be archived twice.
    package static func distinct(_ paths: [String]) -> [String] {
        var seen: [String] = []
        for path in paths {
            let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
            if !seen.contains(trimmed) { seen.append(trimmed) }
        }
        return seen.filter { path in !seen.contains { other in other != path && (other == "/" || path.hasPrefix(other + "/")) } }
    }
}
