/// The host as its administrator declared it: what healthcheck's expectations section checks.
/// Every list keeps the file's order, which is the order of the checks.
package struct Expectations: Sendable, Equatable, Codable {
    package var services: [String] = []
    package var tcp: [Endpoint] = []
    package var http: [String] = []
    /// Ports allowed to listen beyond loopback; nil when no list was given (listeners are then a fact).
    package var listening: [Listener]?
    package var sysctl: [KeyValue] = []
    package var sshd: [KeyValue] = []
    /// The sshd configuration `sshd -T -f` reads; nil for sshd's own default.
    package var sshdConfig: String?
    package var firewall = false
    package var gpus: Int?
    package var packages: [PackagePin] = []
    package var files: [FileRule] = []
    package var mounts: [MountRule] = []
    package var kernelModules: [String] = []
    package var users: [String] = []
    package var groups: [String] = []
    /// The only accounts that may log in; nil when no list was given.
    package var logins: [String]?
    package var dns: [NameRule] = []
    package var certificates: [CertificateRule] = []
    package var commands: [CommandRule] = []

    package init() {}

    package var isEmpty: Bool { self == Expectations() }

    package struct Endpoint: Sendable, Equatable, Codable, CustomStringConvertible {
        package var host: String
        package var port: Int
        package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    package struct Listener: Sendable, Equatable, Codable, CustomStringConvertible {
        package var port: Int
        package var proto: String
        package var description: String { "\(port)/\(proto)" }
    }

    package struct KeyValue: Sendable, Equatable, Codable, CustomStringConvertible {
        package var key: String
        package var value: String
        package var description: String { "\(key)=\(value)" }
    }

    /// A package installed at a version matching an fnmatch glob (`550.*`), installed at any
    /// version, or absent.
    package struct PackagePin: Sendable, Equatable, Codable, CustomStringConvertible {
        package enum Wanted: Sendable, Equatable, Codable {
            case installed, absent
            case version(String)
        }
        package var name: String
        package var wanted: Wanted

        package var description: String {
            switch wanted {
            case .installed: "installed"
            case .absent: "absent"
            case .version(let glob): glob
            }
        }
    }

    /// A file's (or folder's) mode, owner and group, and a regular file's sha256 and a text it holds.
    package struct FileRule: Sendable, Equatable, Codable {
        package var path: String
        package var mode: UInt32?
        package var owner: String?
        package var group: String?
        package var sha256: String?
        package var contains: String?

        package init(path: String) { self.path = path }

        /// A mode as chmod takes it: four octal digits.
        package static func octal(_ mode: UInt32) -> String {
            let digits = String(mode, radix: 8)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
    }

    /// A mount point's filesystem type, source, and options that must all be present.
    package struct MountRule: Sendable, Equatable, Codable {
        package var path: String
        package var fstype: String?
        package var source: String?
        package var options: [String] = []

        package init(path: String) { self.path = path }
    }

    /// A name whose answers through the host's resolver include every address given.
    package struct NameRule: Sendable, Equatable, Codable {
        package var name: String
        package var addresses: [String]
    }

    /// A certificate that must be readable, unexpired, and valid for at least `minDays` more.
    package struct CertificateRule: Sendable, Equatable, Codable {
        package static let defaultMinDays = 30
        package var path: String
        package var minDays = defaultMinDays
    }

    /// A command run as an argv list, never through a shell, judged by its exit status and stdout.
    package struct CommandRule: Sendable, Equatable, Codable {
        package var name: String
        package var run: [String]
        package var exit: Int32 = 0
        package var stdoutContains: String?
    }
}
