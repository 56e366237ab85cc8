/// Tool output that did not have the expected shape: what was parsed, and the offending text.
public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let source: String
    public let reason: String

    public init(_ source: String, _ reason: String) {
        self.source = source
        self.reason = reason
    }

    public var description: String { "\(source): \(reason)" }
}
