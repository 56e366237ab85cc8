@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// ailab's reader against PyYAML (what Ansible writes the file with) on generated documents full
/// of the scalars YAML 1.1 and 1.2 read differently. Every document ailab accepts must read the
/// same in PyYAML, to the type; what ailab refuses is fine. PyYAML comes from Debian's python3-yaml.
@Suite(.timeLimit(.minutes(2))) struct YAMLDifferentialTests {
    static let python = "/usr/bin/python3"

    /// SplitMix64: the same 600 documents on every run.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
        mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
    }

    static let keys = [
        "disk", "backup", "threshold", "dest", "services", "tcp", "a", "b-c", "on", "yes", "010", "'quoted key'",
        "\"dq\"", "x y", "Null", "1", "true", "a:b", "/etc/ssh/sshd_config", "libnvidia-compute-550:amd64", "1:30", "mode",
        "run", "x:y:z", "'a: b'",
    ]
    static let scalars = [
        "90", "010", "0", "-5", "+5", "1_000", "0x1F", "0o17", "0b101", "1.5", ".5", "1e3", "1.0e+3", "1:30", "190:20:30",
        "2026-01-01", "2001-12-14t21:59:43.10-05:00", "yes", "No", "ON", "off", "y", "n", "Y", "true", "True", "tRUE",
        "FALSE", "null", "~", "Null", "NULL", "nUll", ".inf", "-.Inf", ".NaN", "ssh.service", "/srv/backups",
        "/srv/x 'y #note", "it's", "a#b", "a #b", "host:22", "[::1]:9100", "=", "<<", "-a", "a:b", "\u{00A0}x",
        "x\u{2003}", "é", "a\tb", "'it''s'", "\"a\\tb\"", "\"#x\"", "'010'", "\"yes\"", "\"\"", "''", "'a' b",
        "\"q\" # c", "x\u{0000}", "x\u{000B}y", "12:30:45", "0.", "-0", "00", "+0x1", "._", "1__0", "0x_1", "x]", "{a}",
    ]

    /// What a real ailab.yaml holds, drawn as often as the tricky ones.
    static let ordinary = [
        "ssh.service", "/srv/backups", "90", "true", "false", "host:22", "'quoted'", "\"dq\"", "it's", "null",
        "a b", "22/tcp", "net.ipv4.ip_forward=1", "passwordauthentication no", "http://127.0.0.1:8080/x?a=1",
        "550.*", "\"0644\"", "0644", "nas:/export", "vers=4.2", "installed",
    ]

    static func scalar(_ random: inout Generator) -> String { random.pick(random.chance(50) ? ordinary : scalars) }

    /// A key's value; below the top, up to the reader's four levels, it may be a map of maps
    /// (`files: {PATH: {mode: ...}}`) whose leaves are scalars and block or flow lists.
    static func value(_ random: inout Generator, indent: String, depth: Int) -> String {
        switch random.next() % (depth < ConfigYAML.maximumDepth ? 6 : 5) {
        case 0: return ""
        case 1: return " " + scalar(&random)
        case 2:
            return " [" + (0..<Int(random.next() % 4)).map { _ in scalar(&random) }.joined(separator: random.pick([", ", ",", " , "])) + "]"
        case 3: return "\n" + (0..<Int(1 + random.next() % 3)).map { _ in indent + "  - " + scalar(&random) }.joined(separator: "\n")
        case 4:
            return "\n"
                + (0..<Int(1 + random.next() % 3)).map { _ in
                    indent + "  " + random.pick(keys) + ":" + (random.chance(50) ? " " + scalar(&random) : " [" + scalar(&random) + "]")
                }.joined(separator: "\n")
        default:
            return "\n"
                + (0..<Int(1 + random.next() % 3)).map { _ in
                    indent + "  " + random.pick(keys) + ":" + value(&random, indent: indent + "  ", depth: depth + 1)
                }.joined(separator: "\n")
        }
    }

    static func document(_ random: inout Generator) -> String {
        var lines: [String] = []
        if random.chance(10) { lines.append("---") }
        for _ in 0..<Int(1 + random.next() % 3) {
            var line = random.pick(keys) + ":" + value(&random, indent: "", depth: 1)
            if random.chance(20) { line += random.pick([" # a comment", "   #x", "\t# tab comment"]) }
            lines.append(line)
            if random.chance(15) { lines.append(random.pick(["", "# between", "   "])) }
        }
        var text = lines.joined(separator: random.chance(10) ? "\r\n" : "\n") + "\n"
        if random.chance(5) { text = "\u{FEFF}" + text }
        return text
    }

    static func json(_ node: ConfigYAML.Node) -> Any {
        switch node {
        case .null: return NSNull()
        case .scalar(let value): return json(value)
        case .list(let items): return items.map { json($0.value) }
        case .mapping(let entries):
            return Dictionary(entries.map { ($0.key.text, json($0.value)) }, uniquingKeysWith: { first, _ in first })
        }
    }

    static func json(_ value: YAMLScalar) -> Any {
        switch value {
        case .null: return NSNull()
        case .boolean(let flag): return flag
        case .integer(let number): return number
        case .text(let text): return text
        }
    }

    static let compare = """
        import json, sys, yaml
        docs, ours = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
        def same(a, b):
            if type(a) is not type(b): return False
            if isinstance(a, dict): return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
            if isinstance(a, list): return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
            return a == b
        accepted = silent = 0
        for doc, mine in zip(docs, ours):
            if mine is None: continue
            accepted += 1
            try: theirs = yaml.safe_load(doc)
            except yaml.YAMLError: theirs = ("refused",)
            if not same(json.loads(json.dumps(theirs, default=lambda o: {"type": type(o).__name__, "value": str(o)})), mine):
                silent += 1
                print("DISAGREE", json.dumps(doc), json.dumps(mine), repr(theirs))
        print("documents", len(docs), "accepted", accepted, "silent", silent)
        """

    @Test func everyAcceptedDocumentReadsTheSameInPyYAML() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python),
            (try? Self.run(["-c", "import yaml"]).status) == 0
        else {
            if ProcessInfo.processInfo.environment["AILAB_REQUIRE_REAL_TOOLS"] == "1" {
                Issue.record("AILAB_REQUIRE_REAL_TOOLS=1 but PyYAML is missing (Debian package python3-yaml)")
            }
            return
        }
        var random = Generator(state: 2026)
        let documents = (0..<600).map { _ in Self.document(&random) }
        let ours: [Any] = documents.map { (try? ConfigYAML.parse($0)).map(Self.json) ?? NSNull() }
        let folder = try Scratch()
        try JSONSerialization.data(withJSONObject: documents).write(to: URL(fileURLWithPath: folder.path + "/docs.json"))
        try JSONSerialization.data(withJSONObject: ours, options: [.fragmentsAllowed]).write(
            to: URL(fileURLWithPath: folder.path + "/ours.json"))
        let result = try Self.run(["-c", Self.compare, folder.path + "/docs.json", folder.path + "/ours.json"])
        #expect(result.status == 0, "\(result.output)")
        let summary = result.output.split(separator: "\n").last.map(String.init) ?? ""
        print("YAML differential against PyYAML: \(summary)")
        #expect(summary.hasPrefix("documents 600 accepted ") && summary.hasSuffix(" silent 0"), "\(result.output.suffix(4000))")
        let accepted = Int(summary.split(separator: " ")[3]) ?? 0
        #expect(accepted >= 100, "too few accepted documents to mean anything: \(summary)")
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
