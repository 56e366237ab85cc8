/// Why nvidia-smi cannot reach the GPUs, read from its own words.
package enum DriverFailure: Sendable, Equatable {
    /// The userspace (NVML) was upgraded under the loaded kernel module.
    case versionMismatch
    /// No usable kernel module: not loaded, not built for this kernel, or the GPU is gone.
    case noDriver
    case other

    package static func classify(_ output: String) -> DriverFailure {
        if output.contains("Driver/library version mismatch") { return .versionMismatch }
        if output.contains("couldn't communicate with the NVIDIA driver") { return .noDriver }
        return .other
    }

    /// Whether the nvidia kernel module is loaded (`/proc/modules`).
    package static func moduleLoaded(_ files: HostFiles) -> Bool {
        (files.read("/proc/modules") ?? "").split(separator: "\n").contains { $0.hasPrefix("nvidia ") }
    }

    /// `/proc/driver/nvidia/version`: "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.54.03  Tue Jun …"
    /// or "… Open Kernel Module for x86_64  550.54.14  Release Build …".
    package static func kernelModuleVersion(_ text: String) -> String? {
        guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("NVRM version:") }) else { return nil }
        return line.split(separator: " ").first { word in word.contains(".") && word.allSatisfy { $0.isNumber || $0 == "." } }
            .map(String.init)
    }

    /// nvidia-smi's "NVML library version: 550.90" (printed with the mismatch by newer drivers).
    package static func libraryVersion(_ output: String) -> String? {
        guard let range = output.firstRange(of: "NVML library version:") else { return nil }
        let version = output[range.upperBound...].drop { $0 == " " }.prefix { $0.isNumber || $0 == "." }
        return version.isEmpty ? nil : String(version)
    }
}
