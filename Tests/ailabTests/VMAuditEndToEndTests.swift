import AilabTestSupport
import Foundation
import Testing

/// vm-audit against libvirt's test driver, with pools whose target paths are test folders.
@Suite(.timeLimit(.minutes(10))) struct VMAuditEndToEndTests {
    /// A node with a running and a shut-off domain, two dir pools with real files, a volume,
    /// and an image nothing references.
    final class Node: @unchecked Sendable {
        let scratch: Scratch
        var uri: String { "test://" + scratch.file("node.xml") }
        var models: String { scratch.file("models") }
        var isos: String { scratch.file("isos") }

        init() throws {
            scratch = try Scratch()
            try scratch.write("models/train.qcow2", String(repeating: "q", count: 100_000))
            try scratch.write("models/stray.qcow2", String(repeating: "s", count: 50_000))
            try scratch.write("isos/installer.iso", String(repeating: "i", count: 20_000))
            try scratch.write("isos/readme.txt", "not an image")
            try scratch.write(
                "node.xml",
                """
                <node>
                  <domain type='test'>
                    <name>train01</name><uuid>11111111-1111-1111-1111-111111111111</uuid>
                    <memory>8388608</memory><vcpu>4</vcpu><os><type>hvm</type></os>
                    <devices><disk type='file' device='disk'><source file='\(models)/train.qcow2'/><target dev='vda' bus='virtio'/></disk></devices>
                  </domain>
                  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
                    <name>win11</name><uuid>22222222-2222-2222-2222-222222222222</uuid>
                    <memory>4194304</memory><vcpu>2</vcpu><os><type>hvm</type></os>
                    <devices><disk type='file' device='cdrom'><source file='\(isos)/installer.iso'/><target dev='sdb' bus='sata'/><readonly/></disk></devices>
                    <test:runstate>5</test:runstate>
                  </domain>
                  <pool type='dir'>
                    <name>models</name><uuid>33333333-3333-3333-3333-333333333333</uuid>
                    <target><path>\(models)</path></target>
                    <volume type='file'><name>train.qcow2</name><key>\(models)/train.qcow2</key>
                      <capacity unit='bytes'>21474836480</capacity><allocation unit='bytes'>100000</allocation>
                      <target><path>\(models)/train.qcow2</path></target></volume>
                  </pool>
                  <pool type='dir'>
                    <name>isos</name><uuid>44444444-4444-4444-4444-444444444444</uuid>
                    <target><path>\(isos)</path></target>
                  </pool>
                </node>
                """)
        }

        func snapshot() throws -> [String: Data] {
            var contents: [String: Data] = [:]
            for folder in [models, isos] {
                for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
                    contents[folder + "/" + name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
                }
            }
            return contents
        }
    }

    @Test func reportsDomainsPoolsVolumesAndTheUnreferencedImage() throws {
        try RealTools.require("virsh", package: "libvirt-clients")
        let node = try Node()
        let before = try node.snapshot()
        let outcome = try Ailab.run(["vm-audit", "--connect", node.uri, "--format", "json"], environment: node.scratch.environment)
        #expect(outcome.code == 0, "\(outcome.stdout)\(outcome.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let domains = try #require(object["domains"] as? [[String: Any]])
        #expect(domains.map { $0["name"] as? String } == ["train01", "win11"])
        #expect(domains.map { $0["state"] as? String } == ["running", "shut off"])
        #expect(domains[0]["vcpus"] as? Int == 4)
        let pools = try #require(object["pools"] as? [[String: Any]])
        #expect(Set(pools.compactMap { $0["targetPath"] as? String }) == [node.models, node.isos])
        let volumes = try #require(object["volumes"] as? [[String: Any]])
        #expect(volumes.map { $0["name"] as? String } == ["train.qcow2"])
        let images = try #require(object["images"] as? [[String: Any]])
        let flagged = Dictionary(uniqueKeysWithValues: images.map { ($0["path"] as? String ?? "", $0["unreferenced"] as? Bool) })
        #expect(flagged == [node.models + "/stray.qcow2": true, node.models + "/train.qcow2": false, node.isos + "/installer.iso": false])
        #expect((object["unreferencedBytes"] as? Int ?? 0) > 0)
        #expect(try node.snapshot() == before)
    }

    @Test func connectFlagAndEnvironmentBothWork() throws {
        try RealTools.require("virsh", package: "libvirt-clients")
        let node = try Node()
        var environment = node.scratch.environment
        environment["LIBVIRT_DEFAULT_URI"] = node.uri
        let fromEnvironment = try Ailab.run(["vm-audit"], environment: environment)
        #expect(fromEnvironment.code == 0)
        #expect(fromEnvironment.stdout.contains("WARNING  \(node.models)/stray.qcow2"))
        #expect(fromEnvironment.stdout.contains("OK       domain win11"))
        environment["LIBVIRT_DEFAULT_URI"] = "test:///default"
        let flagWins = try Ailab.run(["vm-audit", "--connect", node.uri], environment: environment)
        #expect(flagWins.stdout.contains("domain train01"))
        #expect(!flagWins.stdout.contains("domain test "))
    }

    @Test func badURIExits1() throws {
        try RealTools.require("virsh", package: "libvirt-clients")
        let scratch = try Scratch()
        let outcome = try Ailab.run(["vm-audit", "--connect", "test://" + scratch.file("missing.xml")], environment: scratch.environment)
        #expect(outcome.code == 1)
        #expect(outcome.stdout.contains("FAILED   libvirt"))
    }
}
