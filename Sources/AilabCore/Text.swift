#if canImport(Glibc)
    import Glibc
#endif

extension Character {
    /// A space or a tab, not a line break.
    package var isBlank: Bool { isWhitespace && !isNewline }
}

extension StringProtocol {
    /// Without the leading and trailing characters for which `drop` is true: whitespace and line
    /// breaks unless told otherwise.
    package func trimmed(where drop: (Character) -> Bool = \.isWhitespace) -> String {
        guard let first = firstIndex(where: { !drop($0) }), let last = lastIndex(where: { !drop($0) }) else { return "" }
        return String(self[first...last])
    }

    /// Control characters shown as `\x0a`, so that text from outside (a process name, a tool's
    /// message) can neither add a line nor drive the terminal.
    package var escapingControls: String { escapingControls(keepingTabs: false) }

    /// The same, with tabs kept (a diff's or a table's own layout).
    package func escapingControls(keepingTabs: Bool) -> String {
        String(
            unicodeScalars.map { scalar -> String in
                let value = scalar.value
                guard value < 0x20 || (0x7f...0x9f).contains(value), !(keepingTabs && value == 9) else { return String(scalar) }
                let digits = String(value, radix: 16)
                return "\\x" + (digits.count < 2 ? "0" : "") + digits
            }.joined())
    }

    /// Filled with spaces on the right to `width` characters; longer text stays whole.
    package func padded(to width: Int) -> String {
        String(self) + String(repeating: " ", count: Swift.max(0, width - count))
    }
}

extension Double {
    /// The value with `digits` decimals, as printf's "%.Nf" writes it.
    package func fixed(_ digits: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let written = withVaList([digits, self]) { vsnprintf(&buffer, buffer.count, "%.*f", $0) }
        return written < buffer.count
            ? String(decoding: buffer.prefix(Int(written)).map { UInt8(bitPattern: $0) }, as: UTF8.self) : String(self)
    }
}
