import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// docs/JSON.md's schema is the contract: every task's JSON is checked against it.
@Suite(.timeLimit(.minutes(10))) struct JSONSchemaTests {
    static let page = (try? String(contentsOfFile: Repository.root + "/docs/JSON.md", encoding: .utf8)) ?? ""

    /// `| `field`, `field` | type | meaning |` rows of the table under "# JSON report".
    static var commonFields: [(name: String, type: String, meaning: String)] {
        guard let start = page.range(of: "# JSON report"), let end = page.range(of: "Task fields:") else { return [] }
        return page[start.upperBound..<end.lowerBound].split(separator: "\n").filter { $0.hasPrefix("| `") }.flatMap { row in
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return names(Substring(cells[0])).map { ($0, cells[1], cells[2]) }
        }
    }

    /// Task → the fields the "Task fields" list promises in every run (not those "after an execute",
    /// nor those "with `--flag`").
    static var taskFields: [String: [String]] {
        guard let start = page.range(of: "Task fields:\n") else { return [:] }
        let end = page.range(of: "\n\n", range: start.upperBound..<page.endIndex)?.lowerBound ?? page.endIndex
        var fields: [String: [String]] = [:]
        for bullet in page[start.upperBound..<end].components(separatedBy: "\n- ") {
            let text = bullet.replacingOccurrences(of: "\n", with: " ").drop { $0 == "-" || $0 == " " }
            guard let colon = text.firstIndex(of: ":") else { continue }
            let tasks = text[..<colon].components(separatedBy: " and ")
            var body = String(text[text.index(after: colon)...])
            while let open = body.firstIndex(of: "("), let close = body[open...].firstIndex(of: ")") { body.removeSubrange(open...close) }
            for clause in body.components(separatedBy: ";").flatMap({ $0.components(separatedBy: ", and ") })
            where !clause.contains("after an execute") && !clause.trimmingCharacters(in: .whitespaces).hasPrefix("with `--") {
                let owner = tasks.first { clause.trimmingCharacters(in: .whitespaces).hasPrefix($0 + " adds") }
                for task in owner.map({ [$0] }) ?? tasks { fields[task, default: []] += names(Substring(clause)) }
            }
        }
        return fields
    }

    static func names(_ text: Substring) -> [String] {
        text.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// Keys whose names say what they hold must hold it, at any depth.
    static func typeProblems(_ value: Any, path: String = "") -> [String] {
        if let object = value as? [String: Any] {
            return object.flatMap { key, inner -> [String] in
                let here = path.isEmpty ? key : "\(path).\(key)"
                var problems = typeProblems(inner, path: here)
                let numeric =
                    ["Bytes", "Seconds", "Percent"].contains { key.hasSuffix($0) }
                    || ["exitCode", "total", "active", "threshold"].contains(key)
                if numeric && !(inner is NSNumber) && !(inner is NSNull) { problems.append("\(here) is not a number: \(inner)") }
                let time = key == "created" || key.hasSuffix("At")
                if time, let text = inner as? String,
                    text.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"#, options: .regularExpression) == nil
                {
                    problems.append("\(here) is not ISO 8601: \(text)")
                }
                return problems
            }
        }
        if let array = value as? [Any] { return array.enumerated().flatMap { typeProblems($0.element, path: "\(path)[\($0.offset)]") } }
        return []
    }

    func check(_ task: String, _ arguments: [String], environment: [String: String?]) throws {
        let outcome = try Ailab.run([task] + arguments + ["--format", "json"], environment: environment)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any],
            "\(task): \(outcome.stdout)\(outcome.stderr)")
        let changeTask = TaskCatalog.entry(task)?.kind != .readOnly
        for (name, type, meaning) in Self.commonFields where changeTask || !meaning.hasPrefix("change tasks only") {
            let value = object[name]
            let ok =
                switch type.split(separator: " ").first ?? "" {
                case "string": value is String
                case "integer": value is Int
                case "boolean": value is Bool
                case "array": value is [Any]
                default: value != nil
                }
            #expect(ok, "\(task): \(name) should be \(type), is \(String(describing: value))")
        }
        let promised = try #require(Self.taskFields[task], "docs/JSON.md lists no fields for \(task)")
        for name in promised { #expect(object.keys.contains(name), "\(task): \(name) is missing") }
        for list in TaskCatalog.entry(task)?.lists ?? [] { #expect(object[list] is [Any], "\(task): \(list) is not a list") }
        #expect(Self.typeProblems(object).isEmpty, "\(task): \(Self.typeProblems(object))")
    }

    @Test func readmeSchemaIsReadable() {
        #expect(Self.commonFields.map(\.name).prefix(4) == ["task", "hostname", "startedAt", "finishedAt"])
        #expect(
            Self.taskFields.keys.sorted() == [
                "apt-cleanup", "config-backup", "disk-watch", "docker-cleanup", "healthcheck",
                "kernel-cleanup", "reboot", "restore", "upgrade", "vm-audit",
            ])
        #expect(Self.taskFields["apt-cleanup"]?.contains("autocleanArchives") == true)
        #expect(Self.taskFields["kernel-cleanup"]?.contains("autocleanArchives") == false)
        #expect(Self.taskFields["config-backup"]?.contains("archiveBytes") == false)
    }

    @Test func everyTasksJSONFollowsTheReadme() throws {
        try RealTools.requireRoot()
        try RealTools.require("apt-get", package: "apt")
        try RealTools.require("dpkg-scanpackages", package: "dpkg-dev")
        try RealTools.require("virsh", package: "libvirt-clients")
        let scratch = try Scratch()
        let stubs = try StubBin()
        try stubs.link("df")
        try stubs.stub(
            "docker",
            """
            case "$1" in
            info) echo '{"ServerVersion":"26.1.5","ContainersRunning":0,"ContainersPaused":0,"ContainersStopped":0,"Images":1}' ;;
            ps) : ;;
            system) echo '{"Active":"0","Reclaimable":"1.982MB (100%)","Size":"1.982MB","TotalCount":"1","Type":"Images"}' ;;
            *) : ;;
            esac
            """)
        var bare = scratch.environment
        bare["PATH"] = stubs.path
        bare["AILAB_DISK_THRESHOLD"] = "100"
        bare["AILAB_BACKUP_DEST"] = scratch.file("backups")
        try check("healthcheck", [], environment: bare)
        try check("reboot", [], environment: bare)
        try check("disk-watch", ["--threshold", "100"], environment: scratch.environment)
        try check("vm-audit", ["--connect", "test:///default"], environment: scratch.environment)
        try check("config-backup", ["--dest", scratch.file("backups")], environment: scratch.environment)
        var archived = scratch.environment
        archived["AILAB_BACKUP_DEST"] = scratch.file("archives")
        #expect(try Ailab.run(["config-backup", "--execute", "--non-interactive"], environment: archived).code == 0)
        try check("restore", ["/etc/hostname"], environment: archived)
        let apt = try SyntheticApt(
            SyntheticApt.kernels(["6.8.0-40", "6.8.0-45", "6.8.0-47"], extra: [.init(name: "libfoo1", version: "1.0")]))
        try apt.serve([.init(name: "libfoo1", version: "1.1")])
        for task in ["apt-cleanup", "kernel-cleanup", "upgrade"] { try check(task, [], environment: apt.environment) }
        var withDocker = scratch.environment
        withDocker["PATH"] = stubs.path + ":/usr/bin:/bin"
        try check("docker-cleanup", [], environment: withDocker)
    }
}
