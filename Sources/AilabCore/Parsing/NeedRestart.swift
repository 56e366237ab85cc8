/// `needrestart -b` (batch mode, README.batch.md of needrestart): what runs outdated code.
package struct NeedRestart: Sendable, Equatable, Codable {
    /// `NEEDRESTART-VER`, the first line of every batch report: without it there is no report.
    package var version: String?
    package var runningKernel: String?
    package var expectedKernel: String?
    /// 0 unknown, 1 up to date, 2 an ABI-compatible upgrade pending, 3 a new version pending.
    package var kernelStatus: Int?
    package var services: [String] = []
    package var containers: [String] = []

    /// Whether the running kernel is older than the one installed.
    package var kernelOutdated: Bool { (kernelStatus ?? 0) >= 2 }

    package static func parse(_ output: String) -> NeedRestart {
        var result = NeedRestart()
        for line in output.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":"), line.hasPrefix("NEEDRESTART-") else { continue }
            let value = line[line.index(after: colon)...].trimmed(where: \.isBlank)
            switch line[..<colon] {
            case "NEEDRESTART-VER": result.version = value
            case "NEEDRESTART-KCUR": result.runningKernel = value
            case "NEEDRESTART-KEXP": result.expectedKernel = value
            case "NEEDRESTART-KSTA": result.kernelStatus = Int(value)
            case "NEEDRESTART-SVC": result.services.append(value)
            case "NEEDRESTART-CONT": result.containers.append(value)
            default: break
            }
        }
        return result
    }
}
