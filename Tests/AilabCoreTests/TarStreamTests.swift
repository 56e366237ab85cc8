@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The tar stream as config-backup and the drill read it: real streams of four writers against
/// GNU tar's own listing of them, then damaged and hostile streams shaped by hand.
@Suite(.timeLimit(.minutes(2))) struct TarStreamTests {
    static func stream(_ bytes: [UInt8], chunk: Int = 65536, keeping: String? = nil) -> TarStream {
        let stream = TarStream(keeping: keeping)
        bytes.withUnsafeBufferPointer { all in
            for start in stride(from: 0, to: all.count, by: chunk) {
                stream.feed(UnsafeBufferPointer(rebasing: all[start..<min(start + chunk, all.count)]))
            }
        }
        stream.finish()
        return stream
    }

    /// Every member GNU tar lists, with the same name, kind, link target, mode and owner, whatever
    /// the writer: pax headers (as config-backup writes), GNU long names, ustar's prefix, BusyBox.
    @Test(arguments: ["pax", "gnu", "ustar", "busybox"])
    func everyWriterReadsAsGNUTarListsIt(_ writer: String) throws {
        let stream = Self.stream(try Fixture.bytes("tar/stream-\(writer).tar"))
        #expect(stream.damage == nil)
        #expect(stream.ended)
        #expect(stream.members.map(\.header) == (try TarMember.parse(try Fixture.text("tar/stream-\(writer).list"))))
        let byName = Dictionary(stream.members.map { ($0.header.name, $0) }) { first, _ in first }
        #expect(byName["etc/app/app.conf"]?.sha256 == "9d114890d568c724ebf6085bc755fc3c4a1f147d64d920d36c16c0fab46cb95a")
        #expect(byName["etc/app/app.conf"]?.size == 10)
        #expect(byName["etc/app/hard"]?.sha256 == byName["etc/app/app.conf"]?.sha256)
        #expect(byName["etc/app/hard"]?.size == 10)
        #expect(byName["etc/app/pipe"]?.sha256 == nil)
        if writer != "ustar" {
            let long = "etc/app/conf.d/" + String(repeating: "long-", count: 30) + ".conf"
            #expect(byName[long]?.sha256 == "44f8354494a5ba03ba1792a8d3e9c534c47a9181980fde7a3f44b06ef2ae7c7f")
        }
    }

    /// A stream read one byte at a time, or in odd pieces, reads as it does whole.
    @Test func howTheStreamIsCutIntoPiecesChangesNothing() throws {
        let bytes = try Fixture.bytes("tar/stream-pax.tar")
        let whole = Self.stream(bytes)
        for chunk in [1, 7, 511, 513, 4096] {
            let pieces = Self.stream(bytes, chunk: chunk)
            #expect(pieces.members == whole.members, "chunk \(chunk)")
            #expect(pieces.damage == nil && pieces.ended)
        }
    }

    @Test func oneMembersContentIsKeptWhole() {
        let manifest = Array(#"{"entries":[]}"#.utf8)
        let bytes = TarBuilder.member("a", content: [1, 2, 3]) + TarBuilder.member("m.json", content: manifest) + TarBuilder.end
        #expect(Self.stream(bytes, chunk: 5, keeping: "m.json").kept == manifest)
        #expect(Self.stream(bytes, keeping: "other").kept == nil)
    }

    @Test func aDamagedHeaderIsNamedWithWhereItIs() {
        var bytes = TarBuilder.member("etc/a", content: Array("a\n".utf8)) + TarBuilder.member("etc/b") + TarBuilder.end
        bytes[1024 + 3] ^= 0x20
        let stream = Self.stream(bytes)
        #expect(stream.damage == "a damaged header at byte 1024 of the tar stream, after /etc/a")
        #expect(stream.members.map(\.header.name) == ["etc/a"])
    }

    @Test func aStreamCutShortNamesTheMemberAndWhatIsMissing() {
        let bytes = TarBuilder.member("etc/big", content: [UInt8](repeating: 7, count: 3000)) + TarBuilder.end
        #expect(Self.stream(Array(bytes.prefix(512 + 1000))).damage == "/etc/big: cut short, 2000 of its 3000 bytes missing")
        #expect(Self.stream(Array(bytes.prefix(512 + 3000))).damage == "/etc/big: cut short, after its content")
        #expect(Self.stream(Array(bytes.prefix(512 + 3072))).damage == "the tar stream ends without its end-of-archive block")
        #expect(Self.stream(Array(bytes.prefix(512 + 3072 + 100))).damage == "the tar stream ends inside a header")
    }

    /// As GNU tar without --ignore-zeros: what follows a lone zero block is not read.
    @Test func theFirstZeroBlockEndsTheArchive() {
        let bytes = TarBuilder.member("etc/a") + [UInt8](repeating: 0, count: 512) + TarBuilder.member("etc/hidden") + TarBuilder.end
        let stream = Self.stream(bytes)
        #expect(stream.ended && stream.damage == nil)
        #expect(stream.members.map(\.header.name) == ["etc/a"])
        #expect(stream.settled == 512)
    }

    @Test func aFolderOrLinkWithContentIsDamage() {
        let bytes = TarBuilder.header("etc/d/", type: "5", mode: 0o755, size: 512) + [UInt8](repeating: 0, count: 512) + TarBuilder.end
        #expect(Self.stream(bytes).damage == "/etc/d: a 512-byte member of a kind that has no content")
    }

    /// GNU's base-256 numbers, octal with spaces, and pax records that override the header.
    @Test func numbersAndPaxRecordsReadAsTarReadsThem() {
        #expect(TarStream.number(ArraySlice([0x80, 0, 0, 0, 0, 0, 0, 0x3d, 0x09, 0x00, 0, 0])) == 0x3d_0900_0000)
        #expect(TarStream.number(ArraySlice(Array(" 0000644\0".utf8))) == 0o644)
        #expect(TarStream.number(ArraySlice(Array("0008\0".utf8))) == nil)
        let records = Array("26 path=etc/a long/name.x\n12 uid=4000\n".utf8)
        #expect(TarStream.paxRecords(records) == ["path": "etc/a long/name.x", "uid": "4000"])
        #expect(TarStream.paxRecords(Array("99 path=x\n".utf8)) == nil)
        let pax = TarBuilder.member("PaxHeaders/x", type: "x", content: records)
        let stream = Self.stream(pax + TarBuilder.member("short", uid: 1) + TarBuilder.end)
        #expect(stream.members.map(\.header.name) == ["etc/a long/name.x"])
        #expect(stream.members.first?.header.uid == 4000)
    }

    /// What config-backup passes on to the compressor: the stream but its end-of-archive blocks,
    /// whatever pieces it came in.
    @Test(arguments: [1, 100, 512, 65536])
    func theRelayPassesOnAllButTheEndBlocks(chunk: Int) throws {
        let bytes = try Fixture.bytes("tar/stream-gnu.tar")
        let pipe = try StreamPipe(name: "test")
        let relay = ArchiveRelay(pipe)
        bytes.withUnsafeBufferPointer { all in
            for start in stride(from: 0, to: all.count, by: chunk) {
                relay.feed(UnsafeBufferPointer(rebasing: all[start..<min(start + chunk, all.count)]))
            }
        }
        relay.finish()
        pipe.closeWriting()
        var passed: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while case let count = read(pipe.input.descriptor, &buffer, buffer.count), count > 0 { passed += buffer[..<count] }
        pipe.readerEnded()
        let end = Int(relay.stream.settled)
        #expect(passed == Array(bytes.prefix(end)))
        #expect(bytes[end...].allSatisfy { $0 == 0 })
        #expect(Self.stream(passed + TarBuilder.end).members == relay.stream.members)
        #expect(relay.passed == Int64(end))
    }

    /// The archive ends as tar ends one: two zero blocks, then zeros to a whole 10240-byte record.
    @Test func theEndFillsTheLastRecord() {
        #expect(ArchiveRelay.end(after: 0).count == 10240)
        #expect(ArchiveRelay.end(after: 512).count == 9728)
        #expect(ArchiveRelay.end(after: 9216).count == 1024)
        #expect(ArchiveRelay.end(after: 9728).count == 10240 + 512)
        #expect(ArchiveRelay.end(after: 10240 * 3).allSatisfy { $0 == 0 })
    }
}
