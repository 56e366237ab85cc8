import Foundation
import Testing

/// The README is for administrators: their order, no internals, short; every metric the code exports is documented.
@Suite(.timeLimit(.minutes(10))) struct ReadmeTests {
    static let readme = (try? String(contentsOfFile: Repository.root + "/README.md", encoding: .utf8)) ?? ""

    @Test func sectionsComeInAnAdministratorsOrder() throws {
        let order = [
            "## On a fresh machine", "## The first day", "### Install", "### Timers", "## Tasks", "## Safety model",
            "## Configuration file", "## Metrics and alerts", "## Running a fleet", "## Undoing a change", "## Exit codes",
        ]
        let positions = try order.map { heading in
            try #require(Self.readme.range(of: "\n" + heading + "\n"), "README has no \(heading)").lowerBound
        }
        #expect(positions == positions.sorted())
    }

    /// How ailab does it belongs in docs/; the README says what it does.
    @Test func internalsStayInDocs() throws {
        for word in ["O_TMPFILE", "PDEATHSIG", "seccomp", "libdispatch", "openat", "fchmod", "posix_spawn"] {
            #expect(!Self.readme.contains(word), "README mentions \(word)")
        }
        let linked = Self.readme.matches(of: /`(docs\/[A-Z]+\.md)`/).map { String($0.output.1) }
        let pages = try FileManager.default.contentsOfDirectory(atPath: Repository.root + "/docs").filter { $0.hasSuffix(".md") }
        #expect(Set(linked) == Set(pages.map { "docs/" + $0 }))
        for page in linked { #expect(FileManager.default.fileExists(atPath: Repository.root + "/" + page), "\(page) is missing") }
    }

    /// The administrator's page stays short: the reference is in docs/ (issue 36, 18).
    @Test func readmeStaysShort() {
        #expect(Self.readme.split(separator: "\n", omittingEmptySubsequences: false).count <= 450)
    }

    @Test func everyMetricTheCodeExportsIsDocumented() throws {
        let metrics = try String(contentsOfFile: Repository.root + "/docs/METRICS.md", encoding: .utf8)
        let sources = try FileManager.default.subpathsOfDirectory(atPath: Repository.root + "/Sources").filter { $0.hasSuffix(".swift") }
        var names = Set<String>()
        for file in sources {
            let text = try String(contentsOfFile: Repository.root + "/Sources/" + file, encoding: .utf8)
            names.formUnion(text.matches(of: /"(ailab_[a-z_]+)"/).map { String($0.output.1) })
        }
        #expect(names.count >= 25)
        for name in names.sorted() {
            #expect(metrics.contains("`\(name)`") || metrics.contains("`\(name){"), "\(name) is not in docs/METRICS.md")
        }
    }
}
