@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The declared host's maps in ailab.yaml: read in the file's order, and every wrong value a
/// usage error (exit 2) that names the file, the line, the subject and the key.
@Suite(.timeLimit(.minutes(2))) struct DeclaredConfigTests {
    static let gpuHost = """
        expect:
          packages:
            nvidia-driver-550: "550.*"
            cuda-toolkit-12-4: installed
            nvidia-driver-535: absent
            libnvidia-compute-550:amd64: "550.*"
          files:
            /etc/ssh/sshd_config:
              mode: "0600"
              owner: root
              group: 0
              sha256: "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
            /etc/modprobe.d/nvidia.conf:
              contains: "options nvidia NVreg_PreserveVideoMemoryAllocations=1"
            /srv/models:
              mode: 755
          mounts:
            /srv/data:
              fstype: nfs4
              source: "nas:/export/data"
              options:
                - hard
                - vers=4.2
            /scratch:
              options: [rw, noatime]
          kernel_modules: [nvidia, nvidia_uvm]
          users: [alice]
          groups: [docker, render]
          logins: [root, alice]
          dns:
            nas.lab: [10.0.0.5, "fd00::5"]
          certificates:
            /etc/ssl/certs/lab.pem:
              min_days: 14
            /etc/ssl/certs/other.pem:
          commands:
            gpu-smoke:
              run: [/usr/bin/nvidia-smi, -L]
              stdout_contains: H100
            fabric:
              run:
                - /usr/bin/systemctl
                - is-active
                - nvidia-fabricmanager
              exit: 0
        """

    func load(_ text: String) throws -> AilabConfig {
        var config = AilabConfig()
        try ConfigFile.apply(text, from: "/etc/ailab/ailab.yaml", to: &config)
        return config
    }

    @Test func everyKindIsReadInTheFilesOrder() throws {
        let expect = try load(Self.gpuHost).expect
        #expect(
            expect.packages == [
                .init(name: "nvidia-driver-550", wanted: .version("550.*")), .init(name: "cuda-toolkit-12-4", wanted: .installed),
                .init(name: "nvidia-driver-535", wanted: .absent), .init(name: "libnvidia-compute-550:amd64", wanted: .version("550.*")),
            ])
        var sshd = Expectations.FileRule(path: "/etc/ssh/sshd_config")
        (sshd.mode, sshd.owner, sshd.group) = (0o600, "root", "0")
        sshd.sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        var modprobe = Expectations.FileRule(path: "/etc/modprobe.d/nvidia.conf")
        modprobe.contains = "options nvidia NVreg_PreserveVideoMemoryAllocations=1"
        var models = Expectations.FileRule(path: "/srv/models")
        models.mode = 0o755
        #expect(expect.files == [sshd, modprobe, models])
        var data = Expectations.MountRule(path: "/srv/data")
        (data.fstype, data.source, data.options) = ("nfs4", "nas:/export/data", ["hard", "vers=4.2"])
        var scratch = Expectations.MountRule(path: "/scratch")
        scratch.options = ["rw", "noatime"]
        #expect(expect.mounts == [data, scratch])
        #expect(expect.kernelModules == ["nvidia", "nvidia_uvm"])
        #expect(expect.users == ["alice"] && expect.groups == ["docker", "render"] && expect.logins == ["root", "alice"])
        #expect(expect.dns == [.init(name: "nas.lab", addresses: ["10.0.0.5", "fd00::5"])])
        #expect(
            expect.certificates == [
                .init(path: "/etc/ssl/certs/lab.pem", minDays: 14), .init(path: "/etc/ssl/certs/other.pem", minDays: 30),
            ])
        #expect(
            expect.commands == [
                .init(name: "gpu-smoke", run: ["/usr/bin/nvidia-smi", "-L"], stdoutContains: "H100"),
                .init(name: "fabric", run: ["/usr/bin/systemctl", "is-active", "nvidia-fabricmanager"], exit: 0),
            ])
        #expect(try load("expect:\n  logins: []\n").expect.logins == [])
        #expect(try load("expect:\n  users: [alice]\n").expect.logins == nil)
    }

    @Test(arguments: [
        (
            "commands:\n    smoke:\n      run: \"nvidia-smi -L | grep H100\"",
            "line 4: smoke: run: expected an argv list such as [/usr/bin/nvidia-smi, -L]; a shell string is never run"
        ),
        ("commands:\n    smoke:\n      exit: 0", "line 3: smoke: run: is required"),
        ("commands:\n    smoke:\n      run: []", "smoke: run: expected the command first"),
        ("commands:\n    smoke:\n      run: [-rf, /]", "smoke: run: expected the command first"),
        (
            "commands:\n    smoke:\n      run: [/bin/true]\n      exit: 256",
            "line 5: smoke: exit: expected an exit status from 0 to 255, got '256'"
        ),
        (
            "commands:\n    smoke:\n      run: [/bin/true]\n      shell: true",
            "line 5: smoke: unknown key 'shell' (known: run, exit, stdout_contains)"
        ),
        ("commands: [a, b]", "expect.commands: expected keys, one per subject"),
        ("packages:\n    nvidia-driver-550: 550.*.*\n    Bad_Name: installed", "line 4: Bad_Name: expected a Debian package name"),
        ("packages:\n    htop: [1, 2]", "line 3: htop: expected a version glob such as '550.*', installed or absent"),
        ("packages:\n    htop: 010", "'010' is read differently by YAML 1.1 and 1.2"),
        ("files:\n    etc/passwd:\n      mode: \"0644\"", "line 3: etc/passwd: expected an absolute path without '..'"),
        ("files:\n    /etc/../shadow:\n      mode: \"0644\"", "/etc/../shadow: expected an absolute path"),
        ("files:\n    /etc/passwd:\n      mode: \"0999\"", "line 4: /etc/passwd: mode: expected an octal mode such as '0640', got '0999'"),
        ("files:\n    /etc/passwd:\n      mode: 0644", "'0644' is read differently by YAML 1.1 and 1.2"),
        ("files:\n    /etc/passwd:\n      mode: \"17777\"", "mode: expected an octal mode"),
        ("files:\n    /etc/passwd:\n      sha256: abc", "line 4: /etc/passwd: sha256: expected 64 hexadecimal digits, got 'abc'"),
        ("files:\n    /etc/passwd:\n      owner: \"ro ot\"", "/etc/passwd: owner: expected a user or group name"),
        ("files:\n    /etc/passwd:\n      md5: x", "/etc/passwd: unknown key 'md5' (known: mode, owner, group, sha256, contains)"),
        ("files:\n    /etc/passwd: \"0644\"", "line 3: /etc/passwd: expected keys such as mode:, got '0644'"),
        ("mounts:\n    /srv/data:\n      options: hard", "line 4: /srv/data: options: expected a list such as [rw, hard], got 'hard'"),
        ("mounts:\n    /srv/data:\n      fstype: [nfs4]", "/srv/data: fstype: expected one non-empty value"),
        ("dns:\n    nas.lab: [10.0.0.256]", "line 3: nas.lab: expected IPv4 or IPv6 addresses, got '10.0.0.256'"),
        ("dns:\n    nas.lab: 10.0.0.5", "nas.lab: expected a list such as"),
        ("dns:\n    \"-x\": [10.0.0.5]", "-x: expected a host name"),
        (
            "certificates:\n    /etc/ssl/x.pem:\n      min_days: -1",
            "line 4: /etc/ssl/x.pem: min_days: expected an integer from 0 to 3650, got '-1'"
        ),
        ("certificates:\n    /etc/ssl/x.pem:\n      days: 3", "unknown key 'days' (known: min_days)"),
        ("kernel_modules: nvidia", "expect.kernel_modules: expected a list"),
        ("logins: [\"bad name\"]", "expected names without blanks"),
        ("mounts:\n    /a:\n      options:\n        - rw\n        - - x", "a list inside a list"),
    ])
    func aWrongValueIsAUsageErrorNamingItsLineAndSubject(body: String, expected: String) throws {
        #expect {
            try load("expect:\n  " + body + "\n")
        } throws: { error in
            guard let error = error as? AilabError, error.status == .usage else { return false }
            if !error.message.contains(expected) { Issue.record("\(error.message)") }
            return error.message.hasPrefix("config file /etc/ailab/ailab.yaml: ") && error.message.contains(expected)
        }
    }
}

extension DeclaredConfigTests {
    /// The example's GPU pins, uncommented, are a valid declaration of every kind.
    @Test func theExamplesGPUPinsReadWhenUncommented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOfFile: root.path + "/etc/ailab.yaml.example", encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("  # A GPU host's pins") })
        let block = lines[(start + 1)...].prefix { $0.hasPrefix("  # ") }.map { "  " + $0.dropFirst(4) }
        let expect = try load("expect:\n" + block.joined(separator: "\n") + "\n").expect
        #expect(expect.packages.count == 3 && expect.files.count == 2 && expect.mounts.count == 1)
        #expect(expect.kernelModules.count == 3 && expect.users == ["alice"] && expect.logins == ["root", "alice"])
        #expect(expect.dns.count == 1 && expect.certificates.count == 1 && expect.commands.count == 1)
    }
}

extension DeclaredConfigTests {
    /// Every `expect:` example the README and docs/CONFIGURATION.md show is a file ailab reads.
    @Test(arguments: ["README.md", "docs/CONFIGURATION.md"])
    func theDocumentedExamplesRead(page: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOfFile: root.path + "/" + page, encoding: .utf8)
        let examples = text.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "```").first ?? "" }
            .filter { $0.hasPrefix("expect:\n") }
        #expect(!examples.isEmpty)
        for example in examples {
            let expect = try load(example).expect
            #expect(!expect.isEmpty)
        }
    }
}
