@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct SmartctlParserTests {
    @Test(arguments: [
        ("smartctl/sata-hdd-wdc-wd140edfz-healthy-a.json", Status.ok),
        ("smartctl/sata-ssd-samsung-860evo-healthy-x.json", .ok),
        ("smartctl/sata-ssd-samsung-pm883-healthy.json", .ok),
        ("smartctl/nvme-sabrent-rocket4-healthy-a.json", .ok),
        ("smartctl/sas-hitachi-h109060-healthy.json", .ok),
        ("smartctl/sata-hdd-st3500418as-reallocated-304.json", .warning),
        ("smartctl/megaraid-sat-wd4000fyyx-reallocated-387.json", .warning),
        ("smartctl/sata-hdd-hgst-hus724020-errorlog-exit64.json", .warning),
        ("smartctl/error-open-failed-no-such-device-x.json", .warning),
        ("smartctl/error-unable-to-detect-device-type.json", .warning),
    ])
    func verdictOnRealReports(path: String, expected: Status) throws {
        let health = try Smartctl.parseHealth(try Fixture.text(path), device: "/dev/x")
        #expect(health.verdict.0 == expected, "\(health.verdict.1)")
    }

    @Test func reallocatedSectorsAreCounted() throws {
        let health = try Smartctl.parseHealth(
            try Fixture.text("smartctl/sata-hdd-st3500418as-reallocated-304.json"), device: "/dev/x")
        #expect(health.reallocatedSectors == 304)
        #expect(health.passed == true)
        #expect(health.verdict.1.contains("304 reallocated sectors"))
    }

    @Test func errorLogBitIsDecoded() throws {
        let health = try Smartctl.parseHealth(
            try Fixture.text("smartctl/sata-hdd-hgst-hus724020-errorlog-exit64.json"), device: "/dev/x")
        #expect(health.exitStatus == 64)
        #expect(SmartExitStatus(rawValue: health.exitStatus).contains(.errorLogEntries))
        #expect(health.verdict.1.contains("error log"))
    }

    @Test func nvmeWearAndWarningsAreRead() throws {
        let health = try Smartctl.parseHealth(try Fixture.text("smartctl/nvme-sabrent-rocket4-healthy-a.json"), device: "/dev/x")
        #expect(health.device == "/dev/nvme0")
        #expect(health.nvmeCriticalWarning == 0)
        #expect(health.nvmeMediaErrors == 0)
        #expect(health.nvmePercentageUsed == 4)
    }

    @Test func openFailureNamesTheMessage() throws {
        let health = try Smartctl.parseHealth(try Fixture.text("smartctl/error-open-failed-no-such-device-x.json"), device: "/dev/sdb")
        #expect(health.device == "/dev/sdb")
        #expect(health.verdict.1.contains("No such device"))
    }

    @Test func failingDiskAndNVMeCriticalWarningFail() {
        let failing = SmartHealth(device: "/dev/sda", model: "X", exitStatus: 8, passed: false, standby: false, messages: [])
        #expect(failing.verdict.0 == .failed)
        var nvme = SmartHealth(device: "/dev/nvme0", model: "Y", exitStatus: 0, passed: true, standby: false, messages: [])
        nvme.nvmeCriticalWarning = 4
        #expect(nvme.verdict.0 == .failed)
        nvme.nvmeCriticalWarning = 0
        nvme.nvmePercentageUsed = 95
        #expect(nvme.verdict.0 == .warning)
    }

    @Test func standbyIsNotAFailure() throws {
        let json = """
            {"smartctl":{"messages":[{"string":"Device is in STANDBY mode, exit(2)","severity":"information"}],"exit_status":2},
             "device":{"name":"/dev/sdc","type":"sat"}}
            """
        let health = try Smartctl.parseHealth(json, device: "/dev/sdc")
        #expect(health.standby)
        #expect(health.verdict.0 == .ok)
    }

    @Test(arguments: [("smartctl/scan-megaraid.json", 8), ("smartctl/scan-simple-flatcar.json", 8)])
    func scansListDevicesWithTheirTypes(path: String, minimum: Int) throws {
        let devices = try Smartctl.parseScan(try Fixture.text(path))
        #expect(devices.count >= 3)
        #expect(devices.allSatisfy { !$0.name.isEmpty && !$0.type.isEmpty })
    }

    @Test func megaraidScanKeepsTheControllerType() throws {
        let devices = try Smartctl.parseScan(try Fixture.text("smartctl/scan-megaraid.json"))
        #expect(devices.contains { $0.name == "/dev/bus/6" && $0.type == "megaraid,8" })
    }

    @Test(arguments: ["", "not json", "[1,2]"])
    func garbageIsAParseError(text: String) {
        #expect(throws: ParseError.self) { try Smartctl.parseHealth(text, device: "/dev/x") }
    }
}

@Suite(.timeLimit(.minutes(2))) struct NvidiaSMIParserTests {
    @Test(arguments: [
        ("nvidia-smi/h100-80gb-hbm3-driver590-query-gpu-load.csv", "NVIDIA H100 80GB HBM3", 100),
        ("nvidia-smi/h200-driver590-query-gpu-idle.csv", "NVIDIA H200", 0),
    ])
    func csvWithUnitsAndHundredsOfColumns(path: String, name: String, utilization: Int) throws {
        let gpus = try NvidiaSMI.parseCSV(try Fixture.text(path))
        #expect(gpus.count == 1)
        #expect(gpus[0].name == name)
        #expect(gpus[0].driver == "590.48.01")
        #expect(gpus[0].utilizationPercent == utilization)
        #expect(gpus[0].uncorrectedECC == 0)
        #expect(gpus[0].remappedRowsPending == false)
        #expect(gpus[0].memoryTotalMiB != nil)
    }

    @Test func csvOfTheProbesOwnQueryWithFaults() throws {
        let output = """
            index, name, driver_version, temperature.gpu, utilization.gpu [%], memory.used [MiB], memory.total [MiB], ecc.errors.uncorrected.volatile.total, retired_pages.pending, remapped_rows.pending, remapped_rows.failure
            0, NVIDIA A100-SXM4-80GB, 535.54.03, 41, 97, 70000, 81920, 0, No, No, No
            1, NVIDIA A100-SXM4-80GB, 535.54.03, 44, 0, 10, 81920, 3, No, Yes, No
            2, NVIDIA GeForce RTX 4090, 535.54.03, 88, 100, 20000, 24564, [N/A], [N/A], [N/A], [N/A]
            """
        let gpus = try NvidiaSMI.parseCSV(output)
        #expect(gpus.map(\.verdict.0) == [.ok, .failed, .warning])
        #expect(gpus[1].verdict.1.contains("3 uncorrected ECC errors"))
        #expect(gpus[2].uncorrectedECC == nil)
    }

    @Test func refusedFieldIsNamed() {
        #expect(NvidiaSMI.refusedField("Field \"remapped_rows.pending\" is not a valid field to query.\n") == "remapped_rows.pending")
        #expect(NvidiaSMI.refusedField("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.") == nil)
    }

    @Test func listNamesTheGPUs() {
        let names = NvidiaSMI.parseList("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1234)\nGPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-5678)\n")
        #expect(names == ["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"])
    }

    @Test(arguments: ["", "<html/>", "name, driver_version\nA100"])
    func garbageIsAParseError(text: String) {
        #expect(throws: ParseError.self) { try NvidiaSMI.parseCSV(text) }
    }
}

@Suite(.timeLimit(.minutes(2))) struct ServiceAndDeviceParserTests {
    @Test func failedUnitsFromJSONAndPlainText() throws {
        let json =
            #"[{"unit":"nvidia-persistenced.service","load":"loaded","active":"failed","sub":"failed","description":"NVIDIA Persistence Daemon"}]"#
        #expect(
            try Systemctl.parseFailedJSON(json) == [
                FailedUnit(unit: "nvidia-persistenced.service", description: "NVIDIA Persistence Daemon")
            ])
        #expect(try Systemctl.parseFailedJSON("[]").isEmpty)
        let plain = "● docker.service loaded failed failed Docker Application Container Engine\nx.mount loaded failed failed /x\n"
        #expect(Systemctl.parseFailedPlain(plain).map(\.unit) == ["docker.service", "x.mount"])
        #expect(Systemctl.parseFailedPlain("").isEmpty)
    }

    @Test func timersCarryMicrosecondTimestamps() throws {
        let json =
            #"[{"next":1790000000000000,"left":3600000000,"last":1789990000000000,"passed":1,"unit":"ailab-disk-watch.timer","activates":"ailab-disk-watch.service"},{"next":0,"left":null,"last":null,"passed":null,"unit":"ailab-apt-cleanup.timer","activates":"ailab-apt-cleanup.service"}]"#
        let timers = try Systemctl.parseTimers(json)
        #expect(timers[0].next == Date(timeIntervalSince1970: 1_790_000_000))
        #expect(timers[1].next == nil && timers[1].last == nil)
    }

    @Test func showBlocksAreSplitPerUnit() {
        let blocks = Systemctl.parseShow("Id=a.service\nResult=success\n\nId=b.service\nResult=exit-code\nExecMainStatus=1\n")
        #expect(blocks.count == 2)
        #expect(blocks[1]["Result"] == "exit-code")
    }

    @Test func lsblkOldAndNewFormats() throws {
        let new =
            #"{"blockdevices":[{"name":"nvme0n1","type":"disk","size":2000398934016,"model":"Samsung SSD 990 PRO 2TB","rota":false}]}"#
        let old = #"{"blockdevices":[{"name":"sda","type":"disk","size":"500107862016","model":"ST500DM002-1BD14","rota":"1"}]}"#
        #expect(
            try Lsblk.parse(new) == [
                BlockDevice(
                    name: "nvme0n1", type: "disk", sizeBytes: 2_000_398_934_016, model: "Samsung SSD 990 PRO 2TB", rotational: false)
            ])
        #expect(try Lsblk.parse(old).first?.rotational == true)
        #expect(throws: ParseError.self) { try Lsblk.parse("{}") }
    }

    @Test func dockerInfoAndSystemDF() throws {
        let info = #"{"ServerVersion":"26.1.5","ContainersRunning":3,"ContainersPaused":0,"ContainersStopped":2,"Images":9}"#
        #expect(try DockerJSON.parseInfo(info) == .init(running: 3, paused: 0, stopped: 2, images: 9, serverVersion: "26.1.5"))
        let df = """
            {"Active":"2","Reclaimable":"1.2GB (60%)","Size":"2GB","TotalCount":"5","Type":"Images"}
            {"Active":"0","Reclaimable":"0B","Size":"0B","TotalCount":"0","Type":"Build Cache"}
            """
        let rows = try DockerJSON.parseSystemDF(df)
        #expect(rows.map(\.type) == ["Images", "Build Cache"])
        #expect(rows[0] == .init(type: "Images", total: 5, active: 2, sizeBytes: 2_000_000_000, reclaimableBytes: 1_200_000_000))
        #expect(rows[1].sizeBytes == 0 && rows[1].total == 0)
    }

    @Test func virshListWithShutOffDomains() throws {
        let output = """
             Id   Name      State
            --------------------------
             1    train01   running
             -    win11     shut off
            """
        #expect(
            try VirshTable.parseDomains(output) == [
                DomainState(name: "train01", state: "running"),
                DomainState(name: "win11", state: "shut off"),
            ])
        #expect(throws: ParseError.self) { try VirshTable.parseDomains("error: failed to connect") }
    }

    @Test func dkmsStatusInBothFormats() {
        let modules = DKMSStatus.parse(
            """
            nvidia/535.183.01, 6.8.0-45-generic, x86_64: installed
            nvidia, 470.82.00, 5.4.0-91-generic, x86_64: installed (WARNING! Diff between built and installed module!)
            virtualbox/7.0.16: added
            """)
        #expect(
            modules == [
                DKMSModule(module: "nvidia", version: "535.183.01", kernel: "6.8.0-45-generic", state: "installed"),
                DKMSModule(module: "nvidia", version: "470.82.00", kernel: "5.4.0-91-generic", state: "installed"),
                DKMSModule(module: "virtualbox", version: "7.0.16", kernel: nil, state: "added"),
            ])
    }

    @Test func hostFacts() {
        #expect(HostFacts.prettyName(osRelease: "NAME=\"Ubuntu\"\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\n") == "Ubuntu 24.04.1 LTS")
        let memory = HostFacts.memory(meminfo: "MemTotal:       24684096 kB\nMemFree:  1 kB\nMemAvailable:   12342048 kB\n")
        #expect(memory?.total == Int64(24_684_096) * 1024)
        #expect(memory?.available == Int64(12_342_048) * 1024)
        #expect(HostFacts.load(loadavg: "0.72 0.33 0.12 1/79 2854\n") == [0.72, 0.33, 0.12])
        #expect(HostFacts.uptime("3600.5 100.0\n") == 3600.5)
        #expect(HostFacts.cpuCount(online: "0-1\n") == 2)
        #expect(HostFacts.cpuCount(online: "0-3,5,7-8\n") == 7)
        #expect(HostFacts.cpuCount(online: "0\n") == 1)
        #expect(HostFacts.cpuCount(online: "3-1\n") == nil)
        #expect(HostFacts.cpuCount(online: "\n") == nil)
        #expect(HostFacts.duration(90061) == "1d 1h")
    }

    @Test(arguments: [
        ("ailab-config-20261121-033000.tar.gz", true),
        ("ailab-config-20261121-0330.tar.gz", false),
        ("ailab-config-20261121_033000.tar.gz", false),
        ("ailab-config-20261121-033000.tar.gz.tmp", false),
        ("ailab-config-2026112a-033000.tar.gz", false),
        ("xailab-config-20261121-033000.tar.gz", false),
        ("ailab-config-20261121-033000.tgz", false),
    ])
    func archiveNamesMatchExactly(name: String, matches: Bool) {
        #expect(ArchiveName.matches(name) == matches)
    }
}
