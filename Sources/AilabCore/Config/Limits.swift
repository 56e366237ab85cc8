/// The range of every integer setting, in one place for the options, the configuration file,
/// `--help` and the manual page.
package enum Limits {
    package static let threshold = 1...100
    package static let timeout = 1...600
    package static let lockTimeout = 0...86400
    package static let cacheAgeHours = 1...87600
    package static let maxAgeHours = 1...87600
    package static let retentionDays = 0...36500
    package static let keepMin = 0...10000
    package static let gpus = 1...1024
    package static let dockerMaxAgeDays = 1...3650
    package static let keepPoints = 1...100
    package static let keepBytes = 0...(1 << 50)
    package static let historyKeepDays = 1...3650
    package static let minDays = 0...3650
}

extension ClosedRange<Int> {
    /// "1 to 600": plain words, which the manual page renders as they are.
    package var words: String { "\(lowerBound) to \(upperBound)" }
}
