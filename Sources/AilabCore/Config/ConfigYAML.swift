/// The part of YAML that ailab.yaml uses: block mappings four levels deep at most, block and flow
/// lists of scalars (a leaf, at any of those levels), plain and quoted scalars, and comments. Anything else (anchors, tags,
/// multi-line scalars, flow mappings, nested lists, a second document) is refused with its line
/// number, never guessed at; so is a plain scalar that YAML 1.1 and 1.2 read differently, a
/// control character, a blank other than space and tab, and a document over 10,000 nodes.
/// A YAML library would bring full Foundation and ICU with it: 45 MB, nearly three times ailab.
enum ConfigYAML {
    static let maximumDepth = 4
    static let maximumNodes = 10_000

    indirect enum Node: Equatable {
        case null
        case scalar(YAMLScalar)
        case list([Scalar])
        case mapping([Entry])
    }

    struct Scalar: Equatable {
        let value: YAMLScalar
        let line: Int

        /// The scalar as text: a key, or a list item where text is expected.
        var text: String {
            switch value {
            case .text(let text): text
            case .integer(let number): String(number)
            case .boolean(let flag): String(flag)
            case .null: ""
            }
        }
    }

    struct Entry: Equatable {
        let key: Scalar
        let value: Node
        /// Where the value starts: the key's line, or the next line for a block.
        let valueLine: Int
    }

    struct SyntaxError: Error, Equatable {
        let line: Int
        let reason: String
    }

    private struct Line {
        let number: Int
        let indent: Int
        let content: Substring
        var isListItem: Bool { content == "-" || content.hasPrefix("- ") }
    }

    static func parse(_ text: String) throws(SyntaxError) -> Node {
        var reader = Reader(lines: try lines(of: text))
        guard let first = reader.lines.first else { return .null }
        let root = try reader.block(indent: first.indent, depth: 1)
        if let extra = reader.current { throw SyntaxError(line: extra.number, reason: "unexpected indentation") }
        return root
    }

    /// A value as an error message quotes it: 60 characters at most.
    static func shown(_ text: some StringProtocol) -> String {
        text.count > 60 ? text.prefix(57) + "…" : String(text)
    }

    /// YAML's blanks are the space and the tab, nothing else.
    static func isSpace(_ character: Character) -> Bool { character == " " || character == "\t" }

    /// Control characters (NUL, VT, FF, C1, a lone CR) and blanks YAML does not count as blanks.
    private static func refusedCharacter(_ scalar: Unicode.Scalar) -> String? {
        switch scalar.value {
        case 0x09, 0x0A: return nil
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029: return "a control character (U+\(hex(scalar)))"
        case 0xA0, 0x1680, 0x2000...0x200A, 0x202F, 0x205F, 0x3000, 0xFEFF:
            return "a blank that is not a space (U+\(hex(scalar))); use a plain space"
        default: return nil
        }
    }

    private static func hex(_ scalar: Unicode.Scalar) -> String {
        let digits = String(scalar.value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private static func lines(of text: String) throws(SyntaxError) -> [Line] {
        var result: [Line] = []
        // A byte-order mark is allowed at the very start; a CRLF ends a line like LF.
        let body = text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
        for (index, line) in body.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let number = index + 1
            if let refused = line.unicodeScalars.lazy.compactMap(refusedCharacter).first {
                throw SyntaxError(line: number, reason: refused)
            }
            let indentation = line.prefix { $0 == " " || $0 == "\t" }
            let content = Substring(try withoutComment(line.dropFirst(indentation.count), line: number).trimmed(where: isSpace))
            if content.isEmpty { continue }
            if indentation.contains("\t") { throw SyntaxError(line: number, reason: "a tab in the indentation") }
            if content == "---" && result.isEmpty { continue }
            if content == "---" || content == "..." { throw SyntaxError(line: number, reason: "only one document is allowed") }
            result.append(Line(number: number, indent: indentation.count, content: content))
        }
        return result
    }

    /// `#` starts a comment at the start of the content or after a blank, outside quotes. A quote
    /// opens only where a value can start (the line's start, after `: `, `- `, `[` or `,`): inside
    /// a plain value (`it's`, `/srv/x 'y`) it is a character. PyYAML refuses a tab in many places
    /// YAML 1.2 allows one: outside quotes and comments, a tab is refused.
    private static func withoutComment(_ text: Substring, line: Int) throws(SyntaxError) -> Substring {
        var quote: Character?
        var previous: Character = " "
        var lastSolid: Character?
        var escaped = false
        for index in text.indices {
            let character = text[index]
            defer {
                previous = character
                if !isSpace(character) { lastSolid = character }
            }
            if let open = quote {
                if escaped {
                    escaped = false
                } else if open == "\"" && character == "\\" {
                    escaped = true
                } else if character == open {
                    quote = nil
                }
            } else if character == "\"" || character == "'" {
                let valueStart = lastSolid.map { "[,".contains($0) || (":-".contains($0) && isSpace(previous)) } ?? true
                if valueStart { quote = character }
            } else if character == "#" && isSpace(previous) {
                return text[..<index]
            } else if character == "\t" {
                throw SyntaxError(line: line, reason: "a tab outside quotes; use spaces")
            }
        }
        return text
    }

    private struct Reader {
        let lines: [Line]
        var position = 0
        var nodes = 0

        var current: Line? { position < lines.count ? lines[position] : nil }

        /// Every key and list item counts; past the bound the document is refused.
        mutating func count(_ added: Int, line: Int) throws(SyntaxError) {
            nodes += added
            if nodes > ConfigYAML.maximumNodes {
                throw SyntaxError(line: line, reason: "more than \(ConfigYAML.maximumNodes) keys and list items")
            }
        }

        mutating func block(indent: Int, depth: Int) throws(SyntaxError) -> Node {
            guard let line = current else { return .null }
            guard depth <= ConfigYAML.maximumDepth || line.isListItem else {
                throw SyntaxError(line: line.number, reason: "nesting deeper than \(ConfigYAML.maximumDepth) levels")
            }
            return line.isListItem ? .list(try blockList(indent: indent)) : .mapping(try mapping(indent: indent, depth: depth))
        }

        mutating func mapping(indent: Int, depth: Int) throws(SyntaxError) -> [Entry] {
            var entries: [Entry] = []
            var seen: Set<String> = []
            while let line = current, line.indent == indent {
                guard !line.isListItem else { throw SyntaxError(line: line.number, reason: "a list item among keys") }
                let (keyText, rest) = try ConfigYAML.splitKey(line)
                guard seen.insert(keyText).inserted else {
                    throw SyntaxError(line: line.number, reason: "'\(keyText)' appears twice")
                }
                try count(1, line: line.number)
                position += 1
                let key = Scalar(value: .text(keyText), line: line.number)
                if !rest.isEmpty {
                    let value = try ConfigYAML.inline(rest, line: line.number)
                    if case .list(let items) = value { try count(items.count, line: line.number) }
                    entries.append(Entry(key: key, value: value, valueLine: line.number))
                } else if let next = current, next.indent > indent || (next.indent == indent && next.isListItem) {
                    entries.append(Entry(key: key, value: try block(indent: next.indent, depth: depth + 1), valueLine: next.number))
                } else {
                    entries.append(Entry(key: key, value: .null, valueLine: line.number))
                }
            }
            if let line = current, line.indent > indent { throw SyntaxError(line: line.number, reason: "unexpected indentation") }
            return entries
        }

        mutating func blockList(indent: Int) throws(SyntaxError) -> [Scalar] {
            var items: [Scalar] = []
            while let line = current, line.indent == indent, line.isListItem {
                let item = Substring(line.content.dropFirst().trimmed(where: ConfigYAML.isSpace))
                if item == "-" || item.hasPrefix("- ") { throw SyntaxError(line: line.number, reason: "a list inside a list") }
                items.append(Scalar(value: try ConfigYAML.singleValue(item, line: line.number), line: line.number))
                try count(1, line: line.number)
                position += 1
            }
            if let line = current, line.indent > indent { throw SyntaxError(line: line.number, reason: "unexpected indentation") }
            return items
        }
    }

    /// "key: value" or "key:", with a plain or quoted key.
    private static func splitKey(_ line: Line) throws(SyntaxError) -> (String, Substring) {
        let content = line.content
        var end = content.startIndex
        if let quote = content.first, quote == "\"" || quote == "'" {
            end = try quotedEnd(content, line: line.number)
        }
        // A colon inside a plain key (`libnvidia-compute-550:amd64:`) is part of it, as in YAML.
        let colon = content[end...].indices.first { index in
            content[index] == ":" && (content.index(after: index) == content.endIndex || isSpace(content[content.index(after: index)]))
        }
        guard let colon else {
            throw SyntaxError(line: line.number, reason: "expected 'key: value'")
        }
        let keyText = Substring(content[..<colon].trimmed(where: isSpace))
        // A key YAML 1.1 reads as a boolean (`on`, as Ansible's PyYAML would) is quoted.
        guard let resolved = try? inline(keyText, line: line.number) else {
            throw SyntaxError(
                line: line.number,
                reason: "the key '\(shown(keyText))' is read differently by YAML 1.1 and 1.2; quote it (\"\(shown(keyText))\":)")
        }
        guard case .scalar(.text(let key)) = resolved, !key.isEmpty else {
            throw SyntaxError(line: line.number, reason: "expected a text key before ':' ('\(shown(keyText))' is not one)")
        }
        return (key, Substring(content[content.index(after: colon)...].trimmed(where: isSpace)))
    }

    /// A list item: a scalar, never a list or a mapping.
    private static func singleValue(_ text: Substring, line: Int) throws(SyntaxError) -> YAMLScalar {
        switch try inline(text, line: line) {
        case .scalar(let value): return value
        case .null: return .null
        case .list: throw SyntaxError(line: line, reason: "a list inside a list")
        case .mapping: throw SyntaxError(line: line, reason: "a mapping inside a list")
        }
    }

    /// A value on the key's line: a flow list such as `[a, "b"]`, a quoted or plain scalar, or null.
    private static func inline(_ text: Substring, line: Int) throws(SyntaxError) -> Node {
        guard let first = text.first else { return .null }
        if first == "[" {
            guard text.last == "]" else { throw SyntaxError(line: line, reason: "a list opened with '[' is not closed on its line") }
            return .list(try flowItems(text.dropFirst().dropLast(), line: line).map { Scalar(value: $0, line: line) })
        }
        if "{&*!|>%@`]".contains(first) {
            throw SyntaxError(line: line, reason: "'\(first)' starts YAML that ailab.yaml does not use")
        }
        if first == "\"" || first == "'" {
            guard try quotedEnd(text, line: line) == text.endIndex else {
                throw SyntaxError(line: line, reason: "text after a closing quote")
            }
            return .scalar(.text(try unquote(text, line: line)))
        }
        if text.contains(": ") || text.hasSuffix(":") { throw SyntaxError(line: line, reason: "a mapping inside a value") }
        if text.hasPrefix("- ") || text == "-" { throw SyntaxError(line: line, reason: "a list inside a value") }
        guard let value = YAMLScalar.resolve(plain: String(text)) else {
            throw SyntaxError(line: line, reason: YAMLScalar.hint(String(text)))
        }
        return value == .null ? .null : .scalar(value)
    }

    /// The items between '[' and ']': plain or quoted scalars separated by commas.
    private static func flowItems(_ text: Substring, line: Int) throws(SyntaxError) -> [YAMLScalar] {
        var items: [YAMLScalar] = []
        var rest = text.drop(while: isSpace)
        while !rest.isEmpty {
            var end = rest.firstIndex(of: ",") ?? rest.endIndex
            let quoted = rest.first == "\"" || rest.first == "'"
            if quoted {
                end = rest[try quotedEnd(rest, line: line)...].firstIndex(of: ",") ?? rest.endIndex
            }
            let item = Substring(rest[..<end].trimmed(where: isSpace))
            // Brackets and braces in a plain item are flow syntax YAML would read, or refuse.
            if !quoted && item.contains(where: { "[]{}".contains($0) }) {
                throw SyntaxError(
                    line: line, reason: "'\(shown(item))': a list inside a list, or a bracket that does not belong (quote it)")
            }
            // PyYAML refuses a colon in a plain scalar inside [ ] (`[nas:/export]`), which YAML 1.2 reads.
            if !quoted && item.contains(":") {
                throw SyntaxError(
                    line: line, reason: "'\(shown(item))': a colon in a plain item of a [ ] list is read differently; quote it")
            }
            if item.isEmpty { throw SyntaxError(line: line, reason: "an empty list item") }
            items.append(try singleValue(item, line: line))
            rest = end == rest.endIndex ? "" : rest[rest.index(after: end)...].drop(while: isSpace)
        }
        return items
    }

    /// The index just after the quote that closes the one `text` starts with.
    private static func quotedEnd(_ text: Substring, line: Int) throws(SyntaxError) -> Substring.Index {
        guard let quote = text.first else { throw SyntaxError(line: line, reason: "an empty value") }
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let character = text[index]
            if quote == "\"" && character == "\\" {
                index = text.index(after: index)
            } else if character == quote {
                let next = text.index(after: index)
                // '' inside single quotes is one quote.
                guard quote == "'" && next < text.endIndex && text[next] == "'" else { return next }
                index = next
            }
            if index < text.endIndex { index = text.index(after: index) }
        }
        throw SyntaxError(line: line, reason: "a quote is not closed on its line")
    }

    private static func unquote(_ text: Substring, line: Int) throws(SyntaxError) -> String {
        let body = text.dropFirst().dropLast()
        guard text.first == "\"" else { return String(body.replacing("''", with: "'")) }
        var result = ""
        var escaped = false
        for character in body {
            if escaped {
                switch character {
                case "\\", "\"", "/": result.append(character)
                case "n": result.append("\n")
                case "t": result.append("\t")
                default: throw SyntaxError(line: line, reason: "the escape '\\\(character)' is not supported")
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}
