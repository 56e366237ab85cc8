import FoundationEssentials

/// Asks the operator to type a word before anything changes.
package protocol Confirming: Sendable {
    /// Shows the prompt and returns the line typed, or nil at end of input.
    func ask(_ prompt: String) -> String?
}

/// Asks on the terminal: the prompt on stderr, the answer from stdin.
package struct TerminalConfirmation: Confirming {
    package init() {}

    package func ask(_ prompt: String) -> String? {
        StandardStreams.error(prompt)
        return readLine(strippingNewline: true)
    }
}
