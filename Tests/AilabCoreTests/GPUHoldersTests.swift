@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// Who holds each GPU: nvidia-smi's compute processes and their owners from /proc.
@Suite struct GPUHoldersParserTests {
    @Test func computeAppsOfARealH100() throws {
        let apps = try ComputeApps.parse(try Fixture.text("nvidia-smi/h100-80gb-hbm3-driver590-query-compute-apps-load.csv"))
        #expect(apps.map(\.pid) == [11327, 11328, 11345])
        #expect(apps.map(\.name) == ["/root/tools/memhog", "/root/tools/memhog", "./gpu_burn"])
        #expect(apps.map(\.memoryMiB) == [2566, 1542, 15690])
        #expect(apps.allSatisfy { $0.gpuBusID == "00000000:00:09.0" })
    }

    @Test func computeAppsAsAilabAsksKeepCommasAndUnknownMemory() throws {
        let apps = try ComputeApps.parse(
            """
            gpu_bus_id, pid, used_gpu_memory [MiB], process_name
            00000000:3B:00.0, 4242, [N/A], python3 train.py --lr=1e-3,2e-3
            00000000:3B:00.0, 4243, 81000, /opt/job/bin/run

            """)
        #expect(apps.map(\.name) == ["python3 train.py --lr=1e-3,2e-3", "/opt/job/bin/run"])
        #expect(apps.map(\.memoryMiB) == [nil, 81000])
        #expect(try ComputeApps.parse("gpu_bus_id, pid, used_gpu_memory [MiB], process_name\n").isEmpty)
        #expect(throws: ParseError.self) { try ComputeApps.parse("gpu_bus_id, pid\n00000000:3B:00.0, x\n") }
    }

    @Test(arguments: [
        (
            "cgroup/v1-docker-systemd-driver-centos.txt",
            ProcessOwner(.container, "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d")
        ),
        (
            "cgroup/v1-docker-cgroupfs-ubuntu.txt",
            ProcessOwner(.container, "31cb02944da7a12196a193cf0e0f6c226d7c453a1db62e65ba98287593a2ee30")
        ),
        ("cgroup/v1-kubepods.txt", ProcessOwner(.container, "cb1eadb7abe3a6545e9856411207073277838e1bdc003337c2f8685faeedc32c")),
        ("cgroup/v1-session-legacy.txt", ProcessOwner(.session, "c2")),
        ("cgroup/v2-systemd-unit-debian12.txt", ProcessOwner(.unit, "train-job.service")),
    ])
    func ownersOfRealCgroups(file: String, owner: ProcessOwner) throws {
        #expect(ProcessCgroup.owner(try Fixture.text(file)) == owner)
    }

    /// cgroup v2 paths as systemd names them (systemd.special(7), libvirt's cgroups layout).
    @Test func ownersOfUnifiedPaths() throws {
        #expect(try ProcessCgroup.owner(Fixture.text("cgroup/v1-host.txt")) == nil)
        #expect(ProcessCgroup.owner("0::/init.scope\n") == nil)
        #expect(ProcessCgroup.owner("0::/user.slice/user-1000.slice/session-3.scope\n") == ProcessOwner(.session, "3"))
        #expect(
            ProcessCgroup.owner("0::/user.slice/user-1000.slice/user@1000.service/app.slice/run-r5e2.service\n")
                == ProcessOwner(.unit, "run-r5e2.service"))
        #expect(
            ProcessCgroup.owner(#"0::/machine.slice/machine-qemu\x2d3\x2dwin\x2d11.scope/libvirt/emulator"# + "\n")
                == ProcessOwner(.vm, "win-11"))
        #expect(
            ProcessCgroup.owner(
                "0::/system.slice/docker-3f9a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeef.scope\n")?.kind == .container)
    }

    @Test func usersAndHostDevices() {
        #expect(
            Passwd.names("root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\nalias:x:1000:1000::/:/bin/sh\n") == [
                0: "root", 1000: "alice",
            ])
        #expect(ProcStatus.realUID("Name:\tpython3\nUid:\t1000\t0\t0\t0\nGid:\t1000\n") == 1000)
        let xml = """
            <domain type='kvm' id='3'>
              <name>win11</name>
              <devices>
                <hostdev mode='subsystem' type='pci' managed='yes'>
                  <driver name='vfio'/>
                  <source>
                    <address domain='0x0000' bus='0x3b' slot='0x00' function='0x0'/>
                  </source>
                  <alias name='hostdev0'/>
                  <address type='pci' domain='0x0000' bus='0x06' slot='0x00' function='0x0'/>
                </hostdev>
                <hostdev mode='subsystem' type='pci' managed='yes'>
                  <source>
                    <address domain='0x0000' bus='0xaf' slot='0x00' function='0x1'/>
                  </source>
                </hostdev>
              </devices>
            </domain>
            """
        #expect(Virsh.hostDevices(xml) == ["0000:3b:00.0", "0000:af:00.1"])
    }
}

/// The GPU section with its holders, on the healthy host.
@Suite(.timeLimit(.minutes(2))) struct GPUHoldersSectionTests {
    /// A process of alice in the container "trainer", and one of bob in a unit.
    func busyHost() throws -> HealthyHost {
        let host = try HealthyHost()
        let id = String(repeating: "ab", count: 32)
        host.setComputeApps("00000000:3B:00.0, 4242, 15690, python3\n00000000:3B:00.0, 5151, 2048, /opt/bench/run\n")
        try host.write("/etc/passwd", "root:x:0:0::/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n")
        try host.write("/proc/4242/status", "Name:\tpython3\nUid:\t1000\t1000\t1000\t1000\n")
        try host.write("/proc/4242/cgroup", "0::/system.slice/docker-\(id).scope\n")
        try host.write("/proc/5151/status", "Name:\trun\nUid:\t1001\t1001\t1001\t1001\n")
        try host.write("/proc/5151/cgroup", "0::/system.slice/bench.service\n")
        host.runner.on("docker", ["ps", "--no-trunc", "--format", "{{.ID}} {{.Names}}"], stdout: "\(id) trainer\n")
        return host
    }

    @Test func eachGPUNamesItsProcessesTheirUsersAndOwners() async throws {
        let report = try await busyHost().report()
        let gpu = try #require(report.checks(in: "gpu")["gpu0"])
        #expect(gpu.status == .ok)
        #expect(
            gpu.detail.hasSuffix(
                "2 process(es): pid 4242 python3 (alice, 15690 MiB, container trainer), pid 5151 /opt/bench/run (1001, 2048 MiB, unit bench.service)"
            ), "\(gpu.detail)")
        let gpus = try #require(report.findings.data["gpus"])
        #expect("\(gpus)".contains("trainer"))
        let samples = report.findings.metrics
        #expect(samples.first { $0.name == "ailab_gpu_processes" }?.value == 2)
        #expect(
            samples.filter { $0.name == "ailab_gpu_holder_memory_bytes" }.map { $0.labels["holder"] ?? "" }
                == ["container trainer", "unit bench.service"])
    }

    @Test func anIdleGPUSaysSoAndAGPUOfUnknownHoldersDoesNot() async throws {
        let host = try HealthyHost()
        host.setGPU(ecc: "0", ["utilization.gpu": "0"])
        #expect(try await host.report().checks(in: "gpu")["gpu0"]?.detail.hasSuffix("; idle") == true)
        host.runner.on("nvidia-smi", ComputeApps.arguments, stderr: "Unable to determine the device handle\n", exit: 15)
        let report = try await host.report()
        #expect(report.checks(in: "gpu")["gpu0"]?.detail.contains("idle") == false)
        #expect(!report.findings.metrics.contains { $0.name == "ailab_gpu_processes" })
    }

    @Test func memoryPerHolderIsBoundedToFourSeriesAndOther() {
        let processes = (1...6).map { GPUProcess(gpu: 0, pid: $0, name: "job", user: "u\($0)", memoryMiB: $0 * 100, owner: nil) }
        let gpu = GPUState(index: 0, name: "H100", driver: "550", processes: processes)
        #expect(gpu.memoryByHolder(processes).map(\.0) == ["user u6", "user u5", "user u4", "user u3", "other"])
        #expect(gpu.memoryByHolder(processes).last?.1 == 300)
    }

    /// A GPU on vfio-pci belongs to the VM it is passed to, and is not missing from the driver.
    @Test func aGPUPassedToARunningVMIsThatVMs() async throws {
        let host = try HealthyHost()
        for (address, driver) in [("0000:3b:00.0", "nvidia"), ("0000:af:00.0", "vfio-pci")] {
            try host.write("/sys/bus/pci/devices/\(address)/vendor", "0x10de\n")
            try host.write("/sys/bus/pci/devices/\(address)/class", "0x030200\n")
            try FileManager.default.createSymbolicLink(
                atPath: host.root.path + "/sys/bus/pci/devices/\(address)/driver", withDestinationPath: "../../../bus/pci/drivers/\(driver)"
            )
        }
        host.runner.on("virsh", ["list", "--name"], stdout: "win11\n\n")
        host.runner.on(
            "virsh", ["dumpxml", "win11"],
            stdout:
                "<domain type='kvm'><devices><hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0xaf' slot='0x00' function='0x0'/></source></hostdev></devices></domain>\n"
        )
        let checks = try await host.report().checks(in: "gpu")
        #expect(checks["passthrough"]?.detail == "0000:af:00.0 is passed to the running VM win11")
        #expect(checks["gpu count"]?.status == .ok, "\(checks["gpu count"]?.detail ?? "")")
    }
}
