/// Where a setting's value came from, lowest precedence first.
public enum ConfigSource: String, Sendable, Codable, Comparable {
    case `default`, file, environment, flag

    public static func < (lhs: ConfigSource, rhs: ConfigSource) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    static let allCases: [ConfigSource] = [.default, .file, .environment, .flag]
}

/// One setting's effective value and where it came from.
public struct Setting<Value: Sendable & Equatable & Codable>: Sendable, Equatable, Codable {
    public var value: Value
    public var source: ConfigSource

    public init(_ value: Value, _ source: ConfigSource = .default) {
        self.value = value
        self.source = source
    }

    /// A command-line flag, when given, wins over everything else.
    public func overridden(by flag: Value?) -> Setting {
        flag.map { Setting($0, .flag) } ?? self
    }
}

/// The host as its administrator declared it: what healthcheck's expectations section checks.
public struct Expectations: Sendable, Equatable, Codable {
    public var services: [String] = []
    public var tcp: [Endpoint] = []
    public var http: [String] = []
    /// Ports allowed to listen beyond loopback; nil when no list was given (listeners are then a fact).
    public var listening: [Listener]?
    public var sysctl: [KeyValue] = []
    public var sshd: [KeyValue] = []
    /// The sshd configuration `sshd -T -f` reads; nil for sshd's own default.
    public var sshdConfig: String?
    public var firewall = false
    public var gpus: Int?

    public init() {}

    public var isEmpty: Bool { self == Expectations() }

    public struct Endpoint: Sendable, Equatable, Codable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public struct Listener: Sendable, Equatable, Codable, CustomStringConvertible {
        public var port: Int
        public var proto: String
        public var description: String { "\(port)/\(proto)" }
    }

    public struct KeyValue: Sendable, Equatable, Codable, CustomStringConvertible {
        public var key: String
        public var value: String
        public var description: String { "\(key)=\(value)" }
    }
}

/// Every setting ailab reads from its configuration file, with its default.
public struct AilabConfig: Sendable, Equatable, Codable {
    /// The file that was read; nil when none (the default file is missing).
    public var file: String?
    public var diskThreshold = Setting(85)
    public var backupDest = Setting(ArchiveName.defaultFolder)
    public var backupMaxAgeHours = Setting(48)
    public var backupRetentionDays = Setting(30)
    public var backupKeepMin = Setting(3)
    public var healthcheckTimeout = Setting(10)
    public var dockerMaxAgeDays = Setting(14)
    public var expect = Expectations()
    /// Where each declared `expect` key came from; a key not declared is a default.
    public var expectSources: [String: ConfigSource] = [:]

    public func expectSource(_ key: String) -> ConfigSource { expectSources[key] ?? .default }

    public init() {}
}
