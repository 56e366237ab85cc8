/// The part of YAML that ailab.yaml uses: nested block mappings, block and flow lists of
/// scalars, plain and quoted scalars, and comments. Anything else (anchors, tags, multi-line
/// scalars, flow mappings, a second document) is refused with its line number, never guessed at.
/// A YAML library would bring full Foundation and ICU with it: 45 MB, nearly three times ailab.
enum ConfigYAML {
    indirect enum Node: Equatable {
        case null
        case scalar(String, plain: Bool)
        case list([Scalar])
        case mapping([Entry])
    }

    struct Scalar: Equatable {
        let text: String
        let line: Int
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
        let root = try reader.block(indent: first.indent)
        if let extra = reader.current { throw SyntaxError(line: extra.number, reason: "unexpected indentation") }
        return root
    }

    private static func lines(of text: String) throws(SyntaxError) -> [Line] {
        var result: [Line] = []
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let number = index + 1
            let indentation = line.prefix { $0 == " " || $0 == "\t" }
            let content = Substring(withoutComment(line.dropFirst(indentation.count)).trimmed(where: \.isBlank))
            if content.isEmpty { continue }
            if indentation.contains("\t") { throw SyntaxError(line: number, reason: "a tab in the indentation") }
            if content == "---" && result.isEmpty { continue }
            if content == "---" || content == "..." { throw SyntaxError(line: number, reason: "only one document is allowed") }
            result.append(Line(number: number, indent: indentation.count, content: content))
        }
        return result
    }

    /// `#` starts a comment at the start of the content or after a blank, outside quotes. A quote
    /// opens only where a value can start: inside a plain value (`it's`) it is a character.
    private static func withoutComment(_ text: Substring) -> Substring {
        var quote: Character?
        var previous: Character = " "
        var escaped = false
        for index in text.indices {
            let character = text[index]
            defer { previous = character }
            if let open = quote {
                if escaped { escaped = false } else if open == "\"" && character == "\\" { escaped = true } else if character == open { quote = nil }
            } else if (character == "\"" || character == "'") && (previous.isBlank || "[,:".contains(previous)) {
                quote = character
            } else if character == "#" && previous.isBlank {
                return text[..<index]
            }
        }
        return text
    }

    private struct Reader {
        let lines: [Line]
        var position = 0

        var current: Line? { position < lines.count ? lines[position] : nil }

        mutating func block(indent: Int) throws(SyntaxError) -> Node {
            current!.isListItem ? .list(try blockList(indent: indent)) : .mapping(try mapping(indent: indent))
        }

        mutating func mapping(indent: Int) throws(SyntaxError) -> [Entry] {
            var entries: [Entry] = []
            while let line = current, line.indent == indent {
                guard !line.isListItem else { throw SyntaxError(line: line.number, reason: "a list item among keys") }
                let (keyText, rest) = try ConfigYAML.splitKey(line)
                guard !entries.contains(where: { $0.key.text == keyText }) else {
                    throw SyntaxError(line: line.number, reason: "'\(keyText)' appears twice")
                }
                position += 1
                let key = Scalar(text: keyText, line: line.number)
                if !rest.isEmpty {
                    entries.append(Entry(key: key, value: try ConfigYAML.inline(rest, line: line.number), valueLine: line.number))
                } else if let next = current, next.indent > indent || (next.indent == indent && next.isListItem) {
                    entries.append(Entry(key: key, value: try block(indent: next.indent), valueLine: next.number))
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
                let item = line.content.dropFirst().trimmed(where: \.isBlank)
                guard case .scalar(let text, _) = try ConfigYAML.inline(Substring(item), line: line.number) else {
                    throw SyntaxError(line: line.number, reason: "a list item must be a single value")
                }
                items.append(Scalar(text: text, line: line.number))
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
        guard let colon = content[end...].firstIndex(where: { $0 == ":" }),
              content.index(after: colon) == content.endIndex || content[content.index(after: colon)].isBlank else {
            throw SyntaxError(line: line.number, reason: "expected 'key: value'")
        }
        guard case .scalar(let key, _) = try inline(content[..<colon].trimmed(where: \.isBlank)[...], line: line.number), !key.isEmpty else {
            throw SyntaxError(line: line.number, reason: "expected a key before ':'")
        }
        return (key, Substring(content[content.index(after: colon)...].trimmed(where: \.isBlank)))
    }

    /// A value on the key's line: a flow list such as `[a, "b"]`, a quoted or plain scalar, or null.
    private static func inline(_ text: Substring, line: Int) throws(SyntaxError) -> Node {
        guard let first = text.first else { return .null }
        if first == "[" {
            guard text.last == "]" else { throw SyntaxError(line: line, reason: "a list opened with '[' is not closed on its line") }
            return .list(try flowItems(text.dropFirst().dropLast(), line: line).map { Scalar(text: $0, line: line) })
        }
        if "{&*!|>%@`]".contains(first) {
            throw SyntaxError(line: line, reason: "'\(first)' starts YAML that ailab.yaml does not use")
        }
        if first == "\"" || first == "'" {
            guard try quotedEnd(text, line: line) == text.endIndex else { throw SyntaxError(line: line, reason: "text after a closing quote") }
            return .scalar(try unquote(text, line: line), plain: false)
        }
        if text.contains(": ") || text.hasSuffix(":") { throw SyntaxError(line: line, reason: "a mapping inside a value") }
        return ["~", "null", "Null", "NULL"].contains(text) ? .null : .scalar(String(text), plain: true)
    }

    /// The items between '[' and ']': plain or quoted scalars separated by commas.
    private static func flowItems(_ text: Substring, line: Int) throws(SyntaxError) -> [String] {
        var items: [String] = []
        var rest = text.drop(while: \.isBlank)
        while !rest.isEmpty {
            var end = rest.firstIndex(of: ",") ?? rest.endIndex
            if let quote = rest.first, quote == "\"" || quote == "'" {
                end = rest[try quotedEnd(rest, line: line)...].firstIndex(of: ",") ?? rest.endIndex
            }
            guard case .scalar(let value, _) = try inline(rest[..<end].trimmed(where: \.isBlank)[...], line: line) else {
                throw SyntaxError(line: line, reason: "a list item must be a single value")
            }
            items.append(value)
            rest = end == rest.endIndex ? "" : rest[rest.index(after: end)...].drop(while: \.isBlank)
        }
        return items
    }

    /// The index just after the quote that closes the one `text` starts with.
    private static func quotedEnd(_ text: Substring, line: Int) throws(SyntaxError) -> Substring.Index {
        let quote = text.first!
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
