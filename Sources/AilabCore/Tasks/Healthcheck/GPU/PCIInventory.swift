import FoundationEssentials

/// NVIDIA display and 3D controllers on the PCI bus, from sysfs: what the hardware has,
/// whatever the driver makes of it.
package enum PCIInventory {
    /// PCI addresses ("0000:3b:00.0") of vendor 0x10de devices of class 0x03xxxx.
    package static func nvidiaGPUs(_ files: HostFiles) -> [String] {
        nvidiaDevices(files, classPrefix: "0x03")
    }

    /// NVSwitches (HGX and DGX boards): vendor 0x10de, class 0x0680 (a bridge of no other kind).
    package static func nvSwitches(_ files: HostFiles) -> [String] {
        nvidiaDevices(files, classPrefix: "0x0680")
    }

    private static func nvidiaDevices(_ files: HostFiles, classPrefix: String) -> [String] {
        let folder = "/sys/bus/pci/devices"
        return files.list(folder).filter { address in
            let vendor = files.read("\(folder)/\(address)/vendor")?.trimmed()
            let kind = files.read("\(folder)/\(address)/class")?.trimmed()
            return vendor == "0x10de" && kind?.hasPrefix(classPrefix) == true
        }
    }
}
