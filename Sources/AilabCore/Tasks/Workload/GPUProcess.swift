/// A compute process on a GPU: whose it is and what it runs in.
package struct GPUProcess: Sendable, Equatable, Codable {
    /// The GPU's index; nil when nvidia-smi could not say which GPU.
    package var gpu: Int?
    package var pid: Int
    package var name: String
    /// The login name of its real uid (the uid where no name is known).
    package var user: String?
    package var memoryMiB: Int?
    package var owner: ProcessOwner?

    /// "pid 4242 python3 (alice, 15690 MiB, container trainer)"
    package var summary: String {
        let facts = [user, memoryMiB.map { "\($0) MiB" }, owner?.description].compactMap { $0 }
        return "pid \(pid) \(name)" + (facts.isEmpty ? "" : " (" + facts.joined(separator: ", ") + ")")
    }
}

/// An NVIDIA GPU bound to vfio-pci, and the running libvirt domain it is passed to, if any.
package struct PassedGPU: Sendable, Equatable, Codable {
    /// "0000:3b:00.0"
    package var pci: String
    package var domain: String?

    package var summary: String { pci + (domain.map { " is passed to the running VM \($0)" } ?? " is bound to vfio-pci, in no running VM") }
}
