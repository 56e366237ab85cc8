@testable import ailab
import AilabCore
import AilabTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(10))) struct CommandLineTests {
    /// Every subcommand, from the command tree itself.
    static let tasks = TaskName.all

    /// The command tree and the catalogue name the same tasks (and `config`, which is no task).
    @Test func theCommandTreeIsTheCatalogue() {
        #expect(Set(Self.tasks) == Set(TaskCatalog.all.map(\.name) + ["config", "history", "ack", "notify"]))
    }

    /// `ailab config --format json`: numbers as numbers, lists as lists, null for what is not
    /// declared, and a default never credited to the file.
    @Test func configJSONIsTyped() throws {
        let scratch = try Scratch()
        let file = try scratch.write("ailab.yaml", "disk:\n  threshold: 70\nexpect:\n  gpus: 2\n  services: [ssh.service]\n")
        let outcome = try Ailab.run(["config", "--config", file, "--format", "json"], environment: scratch.environment)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], "\(outcome.stderr)")
        let settings = Dictionary(
            uniqueKeysWithValues: (json["settings"] as? [[String: Any]] ?? []).compactMap { line in
                (line["key"] as? String).map { ($0, line) }
            })
        #expect(json["schemaVersion"] as? Int == 2)
        #expect(settings["disk.threshold"]?["value"] as? Int == 70 && settings["disk.threshold"]?["source"] as? String == "file")
        #expect(settings["expect.services"]?["value"] as? [String] == ["ssh.service"])
        #expect(settings["expect.gpus"]?["value"] as? Int == 2)
        #expect(settings["expect.listening"]?["value"] is NSNull && settings["expect.listening"]?["source"] as? String == "default")
        #expect(settings["expect.firewall"]?["value"] as? Bool == false && settings["expect.firewall"]?["source"] as? String == "default")
    }

    @Test func versionAndHelpExit0() throws {
        let version = try Ailab.run(["--version"])
        #expect(version.code == 0)
        #expect(!version.stdout.isEmpty)
        let help = try Ailab.run(["--help"])
        #expect(help.code == 0)
        for task in Self.tasks { #expect(help.stdout.contains(task)) }
    }

    @Test(arguments: tasks)
    func everyTaskHasHelp(task: String) throws {
        for arguments in [[task, "--help"], ["help", task]] {
            let outcome = try Ailab.run(arguments)
            #expect(outcome.code == 0)
            #expect(outcome.stdout.contains("USAGE: ailab \(task)"))
        }
    }

    @Test(arguments: [
        ["no-such-task"], ["disk-watch", "--no-such-flag"], ["disk-watch", "--format", "yaml"],
        ["disk-watch", "--threshold", "abc"], ["config-backup", "--non-interactive"],
        ["docker-cleanup", "--non-interactive"], ["healthcheck", "--execute"],
        ["upgrade", "--history", "--execute"], ["upgrade", "--history", "--rollback"], ["upgrade", "--rollback", "--security"],
        ["upgrade", "20261124-030012"], ["config-backup", "x.tar.gz"], ["restore", "--to", "relative"],
        ["history", "--since", "0d"], ["history", "--since", "4000d"], ["history", "--since", "2026-02-31"],
        ["history", "--since", "yesterday"], ["history", "--task", "nosuch"], ["ack", "/var", "--for", "7d"],
        ["ack", "/var", "--reason", ""], ["ack", "--list", "/var"], ["ack", "--remove"],
        ["ack", "/var", "--reason", "x", "--task", "nosuch"], ["reboot", "--status", "--cancel"], ["reboot", "--status", "--execute"],
        ["reboot", "--at", "+5", "--in-window"], ["reboot", "--recheck", "--execute"], ["reboot", "--cancel", "--allow-users"],
        ["reboot", "--at", "25:00"], ["notify"], ["notify", "--test", "--unit", "ailab-healthcheck.service"],
        ["notify", "--unit", "ailab-healthcheck"], ["notify", "--unit", "-x.service"],
    ])
    func usageErrorsExit2WithOneLine(arguments: [String]) throws {
        let outcome = try Ailab.run(arguments)
        #expect(outcome.code == 2)
        #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome.stderr)")
        #expect(outcome.stdout.isEmpty)
    }

    /// Docker and libvirt are optional: without their tools on PATH the tasks say so and exit 0.
    @Test(arguments: [(["vm-audit"], "ABSENT   libvirt"), (["docker-cleanup", "--execute", "--non-interactive"], "ABSENT   docker")])
    func withoutTheOptionalToolTheTaskExits0(arguments: [String], line: String) throws {
        let stubs = try StubBin()
        let scratch = try Scratch()
        var environment = scratch.environment
        environment["PATH"] = stubs.path
        let outcome = try Ailab.run(arguments, environment: environment)
        #expect(outcome.code == 0)
        #expect(outcome.stdout.contains(line))
    }

    /// Every task that changes the host, from the catalogue: upgrade and restore included.
    @Test(arguments: TaskCatalog.all.filter { $0.kind != .readOnly }.map(\.name))
    func changeTasksDocumentTheSafetyFlags(task: String) throws {
        let help = try Ailab.run([task, "--help"])
        #expect(help.stdout.contains("--execute") && help.stdout.contains("--non-interactive"))
    }
}
