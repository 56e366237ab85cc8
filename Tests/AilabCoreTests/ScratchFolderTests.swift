@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// Root's private folders: made only in a base root trusts, used through their descriptor.
@Suite(.timeLimit(.minutes(2))) struct ScratchFolderTests {
    @Test func aTMPDIROwnedByAUserIsNotUsedAndTheRunSaysSo() throws {
        try RealTools.requireRoot()
        let base = try Scratch()
        let users = base.file("users-tmp")
        try FileManager.default.createDirectory(atPath: users, withIntermediateDirectories: true)
        #expect(chown(users, 65534, 65534) == 0)
        let fake = try FakeContext(environment: ["TMPDIR": users])
        let scratch = try ScratchFolder(fake.context)
        #expect(scratch.name.hasPrefix("/run/ailab/ailab."))
        #expect(try FileManager.default.contentsOfDirectory(atPath: users).isEmpty)
        #expect(fake.warnings.lines == ["TMPDIR \(users) is not used for private folders: \(users) is owned by uid 65534, not root"])
    }

    @Test func aSwappedFolderChangesNothingAilabWritesAndIsDetected() throws {
        let fake = try FakeContext()
        let scratch = try ScratchFolder(fake.context)
        #expect(scratch.name.hasPrefix(fake.folder.path + "/ailab."))
        try scratch.checkUnmoved()
        #expect(rename(scratch.name, scratch.name + ".moved") == 0)
        try FileManager.default.createDirectory(atPath: scratch.name, withIntermediateDirectories: false)
        try Data("mine\n".utf8).write(to: URL(fileURLWithPath: scratch.path + "/member"))
        #expect(FileManager.default.fileExists(atPath: scratch.name + ".moved/member"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.name).isEmpty)
        #expect(throws: AilabError.failed("the private folder \(scratch.name) was moved or replaced during the run; stopped")) {
            try scratch.checkUnmoved()
        }
    }

    @Test func theFolderAndAllInItGoWhenTheRunIsDone() throws {
        let fake = try FakeContext()
        var name = ""
        do {
            let scratch = try ScratchFolder(fake.context)
            name = scratch.name
            try FileManager.default.createDirectory(atPath: scratch.path + "/etc/sub", withIntermediateDirectories: true)
            try Data("x".utf8).write(to: URL(fileURLWithPath: scratch.path + "/etc/sub/file"))
            #expect(fake.context.temporaries.registered == [name])
        }
        #expect(!FileManager.default.fileExists(atPath: name))
        #expect(fake.context.temporaries.registered.isEmpty)
    }
}
