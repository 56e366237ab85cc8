#if canImport(Glibc)
import Glibc
#endif

extension Character {
    /// A space or a tab, not a line break.
    public var isBlank: Bool { isWhitespace && !isNewline }
}

extension StringProtocol {
    /// Without the leading and trailing characters for which `drop` is true: whitespace and line
    /// breaks unless told otherwise.
    public func trimmed(where drop: (Character) -> Bool = \.isWhitespace) -> String {
        guard let first = firstIndex(where: { !drop($0) }), let last = lastIndex(where: { !drop($0) }) else { return "" }
        return String(self[first...last])
    }

    /// Filled with spaces on the right to `width` characters; longer text stays whole.
    public func padded(to width: Int) -> String {
        String(self) + String(repeating: " ", count: Swift.max(0, width - count))
    }
}

extension Double {
    /// The value with `digits` decimals, as printf's "%.Nf" writes it.
    public func fixed(_ digits: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let written = withVaList([digits, self]) { vsnprintf(&buffer, buffer.count, "%.*f", $0) }
        return written < buffer.count ? String(decoding: buffer.prefix(Int(written)).map { UInt8(bitPattern: $0) }, as: UTF8.self) : String(self)
    }
}
