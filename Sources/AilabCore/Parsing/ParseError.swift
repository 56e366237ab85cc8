/// Tool output that did not have the expected shape: what was parsed, and the offending text.
package struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
    package let source: String
    package let reason: String

    package init(_ source: String, _ reason: String) {
        self.source = source
        self.reason = reason
    }

    package var description: String { "\(source): \(reason)" }
}
