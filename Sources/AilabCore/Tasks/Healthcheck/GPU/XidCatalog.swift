/// What NVIDIA says to do first about an Xid: the "Resolution Bucket (Immediate Action)" column
/// of the Xid catalogue, https://docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html
/// (Ampere and newer), with the older codes of "Xid Errors" for Volta and before.
package enum XidAction: String, Sendable, Equatable, Codable {
    case resetGPU = "reset the GPU or reboot"
    case restartApplication = "restart the application"
    case ignore = "nothing to do"
    case unknown = "not in the catalogue: see NVIDIA's Xid documentation"

    /// The action as a step for the administrator, with the command where there is one.
    package func nextStep(code: Int, gpu: Int?) -> String {
        switch self {
        case .resetGPU: "drain the GPU's jobs, then reset it (sudo nvidia-smi -r" + (gpu.map { " -i \($0))" } ?? ")") + " or reboot"
        case .restartApplication: "restart the job that hit it; if Xid \(code) repeats, check the application and the driver"
        case .ignore: "nothing to do"
        case .unknown: "look Xid \(code) up in NVIDIA's Xid catalogue (docs.nvidia.com/deploy/xid-errors)"
        }
    }

    package var status: Status {
        switch self {
        case .resetGPU: .failed
        case .restartApplication, .unknown: .warning
        case .ignore: .ok
        }
    }
}

package enum XidCatalog {
    /// Code → (what it means, what to do). One table; codes absent here are `.unknown`.
    package static let entries: [Int: (meaning: String, action: XidAction)] = [
        8: ("GPU stopped processing (channel idle timeout)", .restartApplication),
        13: ("graphics engine exception", .restartApplication),
        31: ("GPU memory page fault", .restartApplication),
        32: ("invalid or corrupted push buffer stream", .restartApplication),
        38: ("driver firmware error", .resetGPU),
        43: ("GPU stopped processing (reset channel verification error)", .restartApplication),
        44: ("graphics engine fault during context switch", .restartApplication),
        45: ("preemptive cleanup after an earlier error", .restartApplication),
        46: ("GPU stopped processing", .resetGPU),
        48: ("double-bit ECC error", .resetGPU),
        56: ("display engine error", .restartApplication),
        57: ("error programming video memory interface", .resetGPU),
        61: ("internal micro-controller breakpoint or warning", .resetGPU),
        62: ("internal micro-controller halt", .resetGPU),
        63: ("ECC page retirement or row remapping recorded", .ignore),
        64: ("ECC page retirement or row remapping failed", .resetGPU),
        68: ("video decoder exception", .restartApplication),
        69: ("graphics engine class error", .restartApplication),
        74: ("NVLink error", .resetGPU),
        79: ("GPU has fallen off the bus", .resetGPU),
        92: ("high single-bit ECC error rate", .ignore),
        94: ("contained ECC error", .restartApplication),
        95: ("uncontained ECC error", .resetGPU),
        109: ("context switch timeout", .restartApplication),
        110: ("security fault", .resetGPU),
        119: ("GSP RPC timeout", .resetGPU),
        120: ("GSP error", .resetGPU),
        121: ("C2C link corrected error", .ignore),
        122: ("SPI PMU RPC read failure", .resetGPU),
        123: ("SPI PMU RPC write failure", .resetGPU),
        136: ("NVLink fabric manager error", .resetGPU),
        137: ("NVLink FLA privilege error", .restartApplication),
        140: ("unrecovered ECC error", .resetGPU),
        143: ("GPU initialisation failure", .resetGPU),
        144: ("NVLink SAW MVB non-fatal error", .ignore),
        145: ("NVLink RLW non-fatal error", .ignore),
        149: ("NVLink NETIR error", .resetGPU),
        155: ("NVLink link down", .resetGPU),
    ]

    /// A contained ECC error asks only for a restart, but the memory behind it is what fails:
    /// it counts as hardware when it comes back after a reboot.
    package static let containedECC = 94

    /// Xid 154 names the recovery the driver now asks for ("… changed from 0x0 (None) to 0x2
    /// (OS Reboot)"): nothing to do only when that is None.
    package static func action(code: Int, message: String) -> XidAction {
        if code == 154 {
            let target = message.firstRange(of: " to ").map { message[$0.upperBound...] } ?? Substring(message)
            return target.contains("(None)") ? .ignore : .resetGPU
        }
        return entries[code]?.action ?? .unknown
    }

    package static func meaning(code: Int) -> String {
        code == 154 ? "GPU recovery action changed" : entries[code]?.meaning ?? "Xid \(code)"
    }
}
