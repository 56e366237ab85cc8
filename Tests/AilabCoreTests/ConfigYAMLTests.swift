@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct ConfigYAMLTests {
    typealias Node = ConfigYAML.Node

    func scalars(_ node: Node?) -> [String]? {
        guard case .list(let items) = node else { return nil }
        return items.map(\.text)
    }

    func section(_ root: Node, _ name: String) -> [ConfigYAML.Entry] {
        guard case .mapping(let sections) = root,
            case .mapping(let entries) = sections.first(where: { $0.key.text == name })?.value
        else { return [] }
        return entries
    }

    func value(_ root: Node, _ name: String, _ key: String) -> Node? {
        section(root, name).first { $0.key.text == key }?.value
    }

    /// The example the package ships reads as written, comments and all.
    @Test func shippedExample() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOfFile: root.path + "/etc/ailab.yaml.example", encoding: .utf8)
        let parsed = try ConfigYAML.parse(text)
        #expect(value(parsed, "disk", "threshold") == .scalar(.integer(85)))
        #expect(value(parsed, "backup", "dest") == .scalar(.text("/srv/backups/ailab-config")))
        #expect(scalars(value(parsed, "expect", "services")) == ["ssh.service", "prometheus-node-exporter.service"])
        #expect(scalars(value(parsed, "expect", "sshd")) == ["passwordauthentication no", "permitrootlogin prohibit-password"])
        #expect(value(parsed, "expect", "firewall") == .scalar(.boolean(true)))
        #expect(value(parsed, "expect", "gpus") == nil)
        #expect(section(parsed, "expect").map(\.key.line) == [21, 22, 23, 24, 25, 26, 28])
        // The example shows every key the schema knows, set or commented out (issue 36, 16).
        for (name, keys) in ConfigFile.schema {
            for key in keys.keys {
                #expect(
                    value(parsed, name, key) != nil || text.contains("  # \(key): "),
                    "the example lacks \(name).\(key)")
            }
        }
    }

    @Test func blockAndFlowListsQuotesAndComments() throws {
        let root = try ConfigYAML.parse(
            """
            ---
            # a comment
            expect:\r
              services:
                - ssh.service   # trailing comment
                - "docker.service"
              tcp: ['[::1]:9100', "host # not a comment:22", 'it''s:1',]
              "sshd": ["permitrootlogin \\"no\\"\\ttab"]
              http: []
              sysctl: [it's]   # a quote inside a plain value
              firewall:
            disk:
            - a
            """)
        #expect(scalars(value(root, "expect", "services")) == ["ssh.service", "docker.service"])
        #expect(section(root, "expect").first?.valueLine == 5)
        #expect(scalars(value(root, "expect", "tcp")) == ["[::1]:9100", "host # not a comment:22", "it's:1"])
        #expect(scalars(value(root, "expect", "sshd")) == ["permitrootlogin \"no\"\ttab"])
        #expect(scalars(value(root, "expect", "http")) == [])
        #expect(scalars(value(root, "expect", "sysctl")) == ["it's"])
        #expect(value(root, "expect", "firewall") == .null)
        guard case .mapping(let sections) = root else {
            Issue.record("no mapping")
            return
        }
        #expect(scalars(sections.last?.value) == ["a"])
        #expect(try ConfigYAML.parse("") == .null)
        #expect(try ConfigYAML.parse("# only a comment\n\n") == .null)
    }

    @Test func aQuoteInsideAPlainValueDoesNotHideTheComment() throws {
        let root = try ConfigYAML.parse("backup:\n  dest: /srv/x 'y #note\n")
        #expect(value(root, "backup", "dest") == .scalar(.text("/srv/x 'y")))
        #expect(try ConfigYAML.parse("\u{FEFF}disk:\n  threshold: 90\n") == ConfigYAML.parse("disk:\n  threshold: 90\n"))
        #expect(value(try ConfigYAML.parse("expect:\n  firewall: tRUE\n"), "expect", "firewall") == .scalar(.text("tRUE")))
    }

    /// The three inputs that took gigabytes and minutes are refused at once, in bounded memory.
    @Test func largeDocumentsAreRefusedQuickly() {
        let nested = "expect:\n  tcp: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n"
        #expect(throws: ConfigYAML.SyntaxError.self) { try ConfigYAML.parse(nested) }
        let keys = "disk:\n" + (0..<100_000).map { "  k\($0): 1\n" }.joined()
        #expect(throws: ConfigYAML.SyntaxError(line: 10_001, reason: "more than 10000 keys and list items")) { try ConfigYAML.parse(keys) }
    }

    /// YAML that ailab.yaml has no use for is refused at its line, never read some other way.
    @Test(arguments: [
        ("disk:\n  threshold: &t 90\n", 2, "'&' starts YAML"),
        ("disk:\n  threshold: *t\n", 2, "'*' starts YAML"),
        ("disk:\n  threshold: !!int 90\n", 2, "'!' starts YAML"),
        ("disk: {threshold: 90}\n", 1, "'{' starts YAML"),
        ("backup:\n  dest: |\n    /srv\n", 2, "'|' starts YAML"),
        ("disk:\n\tthreshold: 90\n", 2, "a tab in the indentation"),
        ("disk:\n  threshold: \"90\n", 2, "a quote is not closed"),
        ("disk:\n  threshold: [90\n", 2, "not closed on its line"),
        ("disk:\n  threshold: 90\n  threshold: 80\n", 3, "'threshold' appears twice"),
        ("disk:\n  threshold: 90\n---\ndisk:\n", 3, "only one document"),
        ("disk:\n    threshold: 90\n  other: 1\n", 3, "unexpected indentation"),
        ("disk:\n  threshold: 90\n    more: 1\n", 3, "unexpected indentation"),
        ("expect:\n  tcp: [[a], b]\n", 2, "a list inside a list"),
        ("expect:\n  tcp: [a, , b]\n", 2, "an empty list item"),
        ("expect:\n  tcp:\n    - [a]\n", 3, "a list inside a list"),
        ("disk:\n  threshold 90\n", 2, "expected 'key: value'"),
        ("disk:\n  threshold: a: b\n", 2, "a mapping inside a value"),
        ("disk:\n  threshold: \"9\"0\n", 2, "text after a closing quote"),
        ("disk:\n  threshold: \"\\x41\"\n", 2, "the escape '\\x' is not supported"),
        ("disk:\n  threshold: 90\n  - a\n", 3, "a list item among keys"),
        // Read differently by PyYAML (YAML 1.1) and YAML 1.2, or refused by YAML: refused here too.
        ("disk:\n  threshold: 010\n", 2, "'010' is read differently by YAML 1.1 and 1.2"),
        ("expect:\n  firewall: yes\n", 2, "write true or false, or quote it"),
        ("disk:\n  threshold: 1_000\n", 2, "quote it"),
        ("backup:\n  dest: /srv/x\u{00A0}\n", 2, "a blank that is not a space (U+00A0)"),
        ("backup:\n  dest: /srv/\u{2003}x\n", 2, "a blank that is not a space (U+2003)"),
        ("disk:\n  threshold: 9\u{0}0\n", 2, "a control character (U+0000)"),
        ("disk:\n  threshold: 90\u{0B}\n", 2, "a control character (U+000B)"),
        ("disk:\u{0C}\n  threshold: 90\n", 1, "a control character (U+000C)"),
        ("disk:\n  threshold: 90\rother: 1\n", 2, "a control character (U+000D)"),
        ("expect:\n  services:\n    - - a\n", 3, "a list inside a list"),
        ("expect:\n  tcp: [a, b]]\n", 2, "a bracket that does not belong"),
        ("disk:\n  threshold: 90\t# note\n", 2, "a tab outside quotes"),
        ("a:\n  b:\n    c:\n      d:\n        e: 1\n", 5, "nesting deeper than 4 levels"),
    ])
    func unsupportedYAMLIsRefusedAtItsLine(text: String, line: Int, reason: String) {
        do {
            let node = try ConfigYAML.parse(text)
            Issue.record("accepted: \(node)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }
}
