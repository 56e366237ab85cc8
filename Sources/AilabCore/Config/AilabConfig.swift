/// Where a setting's value came from, lowest precedence first.
package enum ConfigSource: String, Sendable, Codable, Comparable {
    case `default`, file, environment, flag

    package static func < (lhs: ConfigSource, rhs: ConfigSource) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }

    static let allCases: [ConfigSource] = [.default, .file, .environment, .flag]
}

/// One setting's effective value and where it came from.
package struct Setting<Value: Sendable & Equatable & Codable>: Sendable, Equatable, Codable {
    package var value: Value
    package var source: ConfigSource

    package init(_ value: Value, _ source: ConfigSource = .default) {
        self.value = value
        self.source = source
    }

    /// A command-line flag, when given, wins over everything else.
    package func overridden(by flag: Value?) -> Setting {
        flag.map { Setting($0, .flag) } ?? self
    }
}

/// Every setting ailab reads from its configuration file, with its default: the one place the
/// defaults are written (task inits take them as given, help texts quote `defaults`).
package struct AilabConfig: Sendable, Equatable, Codable {
    package static let defaults = AilabConfig()

    /// The file that was read; nil when none (the default file is missing).
    package var file: String?
    package var diskThreshold = Setting(85)
    package var backupDest = Setting(ArchiveName.defaultFolder)
    package var backupMaxAgeHours = Setting(48)
    package var backupRetentionDays = Setting(30)
    package var backupKeepMin = Setting(3)
    package var healthcheckTimeout = Setting(10)
    package var dockerMaxAgeDays = Setting(14)
    /// Rollback points kept: the newest this many, and no more bytes than keep_bytes.
    package var upgradeKeepPoints = Setting(5)
    package var upgradeKeepBytes = Setting(2 << 30)
    /// Days of runs and check changes `ailab history` keeps.
    package var historyKeepDays = Setting(90)
    /// When `ailab reboot` may reboot without --at ("" for any time), and whether logged-in people stop it.
    package var rebootWindow = Setting("")
    package var rebootWhenUsers = Setting(UsersPolicy.refuse.rawValue)
    /// Who is told when a check changes: mail addresses, a webhook ("" for none), the least
    /// status told, and after how many seconds a cause still there is told again (0: never).
    package var notifyMail = Setting([String]())
    package var notifyWebhook = Setting("")
    package var notifyOn = Setting(Status.failed.rawValue)
    package var notifyRepeatAfter = Setting(0)
    package var expect = Expectations()
    /// Flags no file key sets: how long apt waits for the dpkg lock, and docker-cleanup's build cache age.
    package static let lockTimeoutSeconds = 300
    package static let dockerCacheAgeHours = 168
    /// Where each declared `expect` key came from; a key not declared is a default.
    package var expectSources: [String: ConfigSource] = [:]

    package func expectSource(_ key: String) -> ConfigSource { expectSources[key] ?? .default }

    package var notify: NotifySettings {
        NotifySettings(
            mail: notifyMail.value, webhook: notifyWebhook.value.isEmpty ? nil : notifyWebhook.value,
            on: Status(rawValue: notifyOn.value) ?? .failed, repeatAfter: notifyRepeatAfter.value == 0 ? nil : notifyRepeatAfter.value)
    }

    package init() {}
}
