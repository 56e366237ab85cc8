/// Which package names are kernels, and which belong to the stack a GPU lab host must keep.
package enum PackageRules {
    /// The kernel release of a versioned image ("linux-image-6.8.0-45-generic" → "6.8.0-45-generic"),
    /// signed or unsigned; nil for metapackages such as linux-image-generic.
    package static func kernelRelease(ofImage name: String) -> String? {
        for prefix in ["linux-image-unsigned-", "linux-image-"] where name.hasPrefix(prefix) {
            let release = name.dropFirst(prefix.count)
            return release.first?.isNumber == true ? String(release) : nil
        }
        return nil
    }

    /// The GPU, CUDA, container and virtualisation stack. Kernel-specific module packages
    /// (linux-modules-nvidia-*-<kernel>, linux-objects-nvidia-*) go with their kernel and
    /// do not match: they start with "linux-".
    package static func isProtected(_ name: String) -> Bool {
        let prefixes = ["nvidia-", "libnvidia-", "cuda-", "docker", "containerd", "libvirt", "qemu-"]
        return prefixes.contains { name.hasPrefix($0) } || name.hasSuffix("-dkms")
    }
}
