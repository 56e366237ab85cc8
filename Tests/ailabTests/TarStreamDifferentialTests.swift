import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The in-process tar reader against GNU tar itself, on what only tar's extensions can hold: names
/// past ustar's 255 bytes, a link target past 100, owners past octal's 2097151 (GNU's base-256,
/// pax's uid and gid records), control characters and UTF-8 in names; in the GNU and the pax
/// format. Every member must read as `tar --list` lists it.
@Suite(.timeLimit(.minutes(2))) struct TarStreamDifferentialTests {
    @Test(arguments: ["gnu", "posix"])
    func everyMemberReadsAsGNUTarListsIt(_ format: String) throws {
        try RealTools.requireRoot()
        try RealTools.require("tar", package: "tar")
        let scratch = try Scratch()
        let deep = "tree/" + (0..<6).map { "folder-\($0)-" + String(repeating: "d", count: 40) }.joined(separator: "/")
        var names = ["tree/plain.conf", "tree/tab\there", "tree/Zürich ☃.conf", "tree/quote\"back\\slash", deep + "/deep.conf"]
        names.append("tree/" + String(repeating: "n", count: 200) + ".conf")
        for name in names { _ = try scratch.write(name, "content of \(name)\n") }
        #expect(chown(scratch.file(names[0]), 3_000_000, 4_000_000) == 0)
        try FileManager.default.createSymbolicLink(
            atPath: scratch.file("tree/far"), withDestinationPath: String(repeating: "t", count: 150))
        #expect(link(scratch.file(names[0]), scratch.file("tree/hard")) == 0)
        let archive = scratch.file("tree.tar")
        let create = try Command.run("tar", ["--create", "--format=\(format)", "--file", archive, "--directory", scratch.path, "tree"])
        #expect(create.code == 0, "\(create.stderr)")
        let listing = try Command.check("tar", TarMember.arguments + ["--file", archive])
        let stream = TarStream()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: archive)))
        bytes.withUnsafeBufferPointer { stream.feed($0) }
        stream.finish()
        #expect(stream.damage == nil && stream.ended)
        #expect(stream.members.map(\.header) == (try TarMember.parse(listing)))
        let owned = stream.members.first { $0.header.name == names[0] }
        #expect(owned?.header.uid == 3_000_000 && owned?.header.gid == 4_000_000)
        #expect(stream.members.count == names.count + 2 + deep.split(separator: "/").count)
    }
}
