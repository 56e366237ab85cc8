import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A small element tree built with XMLParser. (XMLDocument crashes on some malformed input;
/// the streaming parser reports an error instead, which keeps the parsers total.)
public final class XMLTree: @unchecked Sendable {
    public let name: String
    public let attributes: [String: String]
    public private(set) var children: [XMLTree] = []
    public private(set) var text = ""

    init(name: String, attributes: [String: String]) {
        self.name = name
        self.attributes = attributes
    }

    public static func parse(_ xml: String, source: String) throws -> XMLTree {
        let builder = Builder()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = builder
        // An unterminated document can parse "successfully": every element must also be closed.
        guard parser.parse(), let root = builder.root, builder.stack.isEmpty else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "no complete root element"
            throw ParseError(source, "not XML (\(reason)): \(xml.prefix(60))")
        }
        return root
    }

    /// The first child element on a slash-separated path ("temperature/gpu_temp").
    public func element(_ path: String) -> XMLTree? {
        var current: XMLTree? = self
        for step in path.split(separator: "/") {
            current = current?.children.first { $0.name == step }
        }
        return current
    }

    /// The trimmed text of the element on the path.
    public func text(_ path: String) -> String? {
        element(path)?.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func all(_ name: String) -> [XMLTree] {
        children.filter { $0.name == name }
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var root: XMLTree?
        var stack: [XMLTree] = []

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            let node = XMLTree(name: elementName, attributes: attributes)
            if let parent = stack.last { parent.children.append(node) } else if root == nil { root = node }
            stack.append(node)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            _ = stack.popLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }
    }
}
