/// Reads named elements of the XML libvirt writes. libvirt's output is regular (no CDATA, no
/// comments, entities only in text); the XML parsers at hand would link libxml2 and the build
/// host's ICU into the binary, which then no longer starts on a minimal host.
struct LibvirtXML {
    let text: Substring

    init(_ xml: String, root: String, source: String) throws {
        let trimmed = xml.drop { $0.isWhitespace }
        guard trimmed.hasPrefix("<\(root)"), let element = LibvirtXML.find(root, in: trimmed) else {
            throw ParseError(source, "no complete \(root) element: \(xml.prefix(80))")
        }
        text = element.inner
    }

    private init(inner: Substring) { text = inner }

    /// The first element named `path` ("target/path"), nested as given.
    func element(_ path: String) -> (attributes: [String: String], text: String)? {
        var scope = text
        var attributes: [String: String] = [:]
        for name in path.split(separator: "/") {
            guard let found = Self.find(String(name), in: scope) else { return nil }
            scope = found.inner
            attributes = found.attributes
        }
        return (attributes, Self.decode(scope))
    }

    /// Every element named `name` in this scope, in order, each a scope of its own.
    func elements(_ name: String) -> [LibvirtXML] {
        var found: [LibvirtXML] = []
        var rest = text
        while let element = Self.find(name, in: rest) {
            found.append(LibvirtXML(inner: element.inner))
            rest = rest[element.end...]
        }
        return found
    }

    private static func find(_ name: String, in scope: Substring) -> (attributes: [String: String], inner: Substring, end: Substring.Index)?
    {
        var rest = scope
        while let open = rest.firstRange(of: "<" + name) {
            let after = rest[open.upperBound...]
            guard let next = after.first, next == " " || next == ">" || next == "/" || next == "\n" || next == "\t",
                let close = after.firstIndex(of: ">")
            else {
                rest = after
                continue
            }
            let tag = after[..<close]
            let attributes = Self.attributes(tag)
            let body = after[after.index(after: close)...]
            if tag.hasSuffix("/") { return (attributes, body[..<body.startIndex], body.startIndex) }
            guard let end = body.firstRange(of: "</\(name)>") else { return nil }
            return (attributes, body[..<end.lowerBound], end.upperBound)
        }
        return nil
    }

    /// `unit='GiB' type="dir"` → ["unit": "GiB", "type": "dir"].
    private static func attributes(_ tag: Substring) -> [String: String] {
        var result: [String: String] = [:]
        var rest = tag
        while let equals = rest.firstIndex(of: "=") {
            let name = rest[..<equals].split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).last.map(String.init)
            let value = rest[rest.index(after: equals)...]
            guard let quote = value.first, quote == "'" || quote == "\"",
                let end = value.dropFirst().firstIndex(of: quote)
            else { break }
            if let name { result[name] = decode(value[value.index(after: value.startIndex)..<end]) }
            rest = value[value.index(after: end)...]
        }
        return result
    }

    private static func decode(_ text: Substring) -> String {
        guard text.contains("&") else { return text.trimmingWhitespace }
        var decoded = String(text)
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&apos;", "'"), ("&amp;", "&")] {
            decoded = decoded.replacing(entity, with: character)
        }
        return Substring(decoded).trimmingWhitespace
    }
}

private extension Substring {
    var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
