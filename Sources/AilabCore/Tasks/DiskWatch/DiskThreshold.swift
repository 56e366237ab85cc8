/// The use% at or above which a filesystem needs attention: 1–100, default 85.
public enum DiskThreshold {
    public static let defaultPercent = 85
    public static let environmentKey = "AILAB_DISK_THRESHOLD"

    /// The flag wins over the environment; anything but an integer 1–100 is refused.
    public static func resolve(flag: Int?, environment: [String: String]) throws -> Int {
        if let flag {
            guard (1...100).contains(flag) else {
                throw AilabError.usage("invalid --threshold '\(flag)': expected an integer from 1 to 100")
            }
            return flag
        }
        guard let text = environment[environmentKey] else { return defaultPercent }
        guard let value = Int(text), (1...100).contains(value) else {
            throw AilabError.usage("invalid \(environmentKey) '\(text)': expected an integer from 1 to 100")
        }
        return value
    }
}
