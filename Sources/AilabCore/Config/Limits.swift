/// The range of every integer setting, in one place for the options, the configuration file,
/// `--help` and the manual page.
public enum Limits {
    public static let threshold = 1...100
    public static let timeout = 1...600
    public static let lockTimeout = 0...86400
    public static let cacheAgeHours = 1...87600
    public static let maxAgeHours = 1...87600
    public static let retentionDays = 0...36500
    public static let keepMin = 0...10000
    public static let gpus = 1...1024
    public static let dockerMaxAgeDays = 1...3650
}

extension ClosedRange<Int> {
    /// "1 to 600": plain words, which the manual page renders as they are.
    public var words: String { "\(lowerBound) to \(upperBound)" }
}
