/// `needrestart -b` (batch mode, README.batch.md of needrestart): what runs outdated code.
public struct NeedRestart: Sendable, Equatable, Codable {
    public var runningKernel: String?
    public var expectedKernel: String?
    /// 0 unknown, 1 up to date, 2 an ABI-compatible upgrade pending, 3 a new version pending.
    public var kernelStatus: Int?
    public var services: [String] = []
    public var containers: [String] = []

    /// Whether the running kernel is older than the one installed.
    public var kernelOutdated: Bool { (kernelStatus ?? 0) >= 2 }

    public static func parse(_ output: String) -> NeedRestart {
        var result = NeedRestart()
        for line in output.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":"), line.hasPrefix("NEEDRESTART-") else { continue }
            let value = line[line.index(after: colon)...].trimmed(where: \.isBlank)
            switch line[..<colon] {
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
