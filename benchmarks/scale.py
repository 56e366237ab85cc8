#!/usr/bin/env python3
"""ailab at scale, with instant stub tools: wall time, ailab's peak resident memory and the
number of processes each task starts, on a big host (8 GPUs, 24 disks, 400 containers, 80 VMs,
a 200k-line kernel log read without journalctl's filter), the kernel log's memory at 64 MiB
against an empty one, vm-audit over 320 VMs with a virsh that answers in 50 ms, and
docker-cleanup's preview over 1,600 containers.

    python3 benchmarks/scale.py [--binary .build/release/ailab] [--runs 3]

Run it as root (the kernel log and SMART need root); it touches nothing outside a temporary
folder. Figures go to stdout, one line per case.
"""
import argparse, json, os, resource, shutil, stat, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests/AilabCoreTests/Fixtures")


def stub(folder, name, body):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write('#!/bin/sh\necho "%s" >> "$BENCH_COUNT"\n%s\n' % (name, body))
    os.chmod(path, 0o755)


def host(folder, gpus=8, disks=24, containers=400, vms=80, log_lines=200_000, log_bytes=None, virsh_delay=0.0, tool_delay=0.0):
    data = os.path.join(folder, "data")
    os.makedirs(data, exist_ok=True)
    shutil.copy(os.path.join(FIXTURES, "smartctl/nvme-sabrent-rocket4-healthy-a.json"), os.path.join(data, "smart.json"))
    with open(os.path.join(data, "scan.json"), "w") as f:
        json.dump({"devices": [{"name": "/dev/nvme%dn1" % i, "type": "nvme", "protocol": "NVMe"} for i in range(disks)]}, f)
    row = os.path.join(data, "ps.jsonl")
    with open(row, "w") as f:
        for i in range(containers):
            f.write(json.dumps({"Command": "\"python train.py\"", "CreatedAt": "2026-01-01 00:00:00 +0000 UTC",
                                "ID": "%064x" % (i + 1), "Image": "cuda:12", "Labels": "", "LocalVolumes": "0",
                                "Mounts": "", "Names": "job%d" % i, "Networks": "bridge", "Ports": "",
                                "RunningFor": "3 months ago", "Size": "0B", "State": "exited" if i % 2 else "running",
                                "Status": "Exited (0)" if i % 2 else "Up"}) + "\n")
    with open(os.path.join(data, "images.jsonl"), "w") as f:
        for i in range(containers // 4):
            f.write(json.dumps({"Containers": "N/A", "CreatedAt": "2026-01-01 00:00:00 +0000 UTC", "CreatedSince": "3 months ago",
                                "Digest": "<none>", "ID": "sha256:%064x" % (i + 1), "Repository": "lab/img%d" % i,
                                "SharedSize": "N/A", "Size": "8GB", "Tag": "1", "UniqueSize": "N/A", "VirtualSize": "8GB"}) + "\n")
    with open(os.path.join(data, "inspect.txt"), "w") as f:
        for i in range(containers):
            f.write("%064x sha256:%064x\n" % (i + 1, i % (containers // 4) + 1))
    with open(os.path.join(data, "virsh-list.txt"), "w") as f:
        f.write(" Id   Name    State\n-----------------------\n")
        for i in range(vms):
            f.write(" %d    vm%d    running\n" % (i + 1, i))
    with open(os.path.join(data, "virsh-names.txt"), "w") as f:
        f.write("".join("vm%d\n" % i for i in range(vms)) + "\n")
    with open(os.path.join(data, "domstats.txt"), "w") as f:
        for i in range(vms):
            f.write("Domain: 'vm%d'\n  state.state=1\n  state.reason=1\n  balloon.maximum=8388608\n  vcpu.current=4\n"
                    "  block.count=1\n  block.0.name=vda\n  block.0.path=/var/lib/libvirt/images/vm%d.qcow2\n" % (i, i))
    line = "2026-11-20T03:00:00+0000 lab01 kernel: audit: type=1400 apparmor=\"DENIED\" operation=\"open\" profile=\"snap\"\n"
    log = os.path.join(data, "kernel.log")
    with open(log, "w") as f:
        count = (log_bytes // len(line)) if log_bytes is not None else log_lines
        for _ in range(count // 1000):
            f.write(line * 1000)
        f.write(line * (count % 1000))
        if count:
            f.write("2026-11-20T04:00:00+0000 lab01 kernel: NVRM: Xid (PCI:0000:3b:00): 79, pid=0, name=<unknown>, GPU has fallen off the bus.\n")

    bus = "awk -F, -v n=%d '{for(g=0;g<n;g++){s=\"\";for(i=1;i<=NF;i++){f=$i;v=\"[N/A]\";" \
          "if(f==\"index\")v=g;else if(f==\"name\")v=\"NVIDIA H100 80GB HBM3\";else if(f==\"driver_version\")v=\"550.90.07\";" \
          "else if(f==\"pci.bus_id\")v=sprintf(\"00000000:%%02X:00.0\",16+g);else if(f~/^temperature/)v=41;" \
          "else if(f~/^utilization/)v=97;else if(f==\"memory.used\")v=70000;else if(f==\"memory.total\")v=81559;" \
          "else if(f~/^ecc/)v=0;else if(f~/^pcie.link.width/)v=16;else if(f==\"persistence_mode\")v=\"Enabled\";" \
          "else if(f~/^power/)v=\"650.00\";else if(f~/^clocks/)v=\"Not Active\";else if(f~/remapped_rows/)v=\"No\";" \
          "s=s (i>1?\", \":\"\") v} print s}}'" % gpus
    stub(folder, "nvidia-smi", """case "$1" in
-L) i=0; while [ $i -lt %d ]; do echo "GPU $i: NVIDIA H100 80GB HBM3 (UUID: GPU-$i)"; i=$((i+1)); done ;;
--query-gpu=*) f=${1#--query-gpu=}; echo "$f" | sed 's/,/, /g'; echo "$f" | %s ;;
esac""" % (gpus, bus))
    stub(folder, "smartctl", 'case "$2" in --scan-open) cat "%s/scan.json" ;; *) cat "%s/smart.json" ;; esac' % (data, data))
    stub(folder, "journalctl", 'cat "%s"' % log)
    stub(folder, "dkms", 'echo "nvidia/550.90.07, $(uname -r), x86_64: installed"')
    stub(folder, "dockerd", "exit 0")
    stub(folder, "docker", """case "$1 $2" in
"info --format") case "$3" in *json*) echo '{"ServerVersion":"26.1.5","ContainersRunning":200,"ContainersPaused":0,"ContainersStopped":200,"Images":100}' ;; *) echo 26.1.5 ;; esac ;;
"ps --filter") ;;
"ps -a") cat "%s/ps.jsonl" ;;
"images --no-trunc") case "$3" in --quiet) ;; *) cat "%s/images.jsonl" ;; esac ;;
"network ls") echo '{"CreatedAt":"2026-01-01 00:00:00 +0000 UTC","Driver":"bridge","ID":"1","Labels":"","Name":"bridge"}' ;;
"system df") case "$3" in -v) echo '{}' ;; *) echo '{"Active":"2","Reclaimable":"1GB (50%%)","Size":"2GB","TotalCount":"4","Type":"Images"}' ;; esac ;;
"inspect --type") cat "%s/inspect.txt" ;;
esac""" % (data, data, data))
    stub(folder, "libvirtd", "exit 0")
    sleep = "sleep %s; " % virsh_delay if virsh_delay else ""
    stub(folder, "virsh", sleep + """case "$*" in
"list --all") cat "%s/virsh-list.txt" ;;
"list --all --name") cat "%s/virsh-names.txt" ;;
"list --all --autostart --name") cat "%s/virsh-names.txt" ;;
"list --all --name --with-snapshot") echo ;;
domstats*) cat "%s/domstats.txt" ;;
dominfo*) cat "%s/virsh/dominfo-shut-off.txt" ;;
domblklist*) cat "%s/virsh/domblklist-details.txt" ;;
snapshot-list*) ;;
"pool-list --all --details") cat "%s/virsh/pool-list-all-details.txt" ;;
pool-dumpxml*) cat "%s/virsh/pool-dumpxml-dir.xml" ;;
vol-list*) cat "%s/virsh/vol-list-details.txt" ;;
esac""" % (data, data, data, data, FIXTURES, FIXTURES, FIXTURES, FIXTURES, FIXTURES))
    if tool_delay:
        # Every slow probe answers late: how far the sections overlap.
        for name in ["nvidia-smi", "docker", "virsh", "smartctl", "dkms"]:
            stub(folder, name, "sleep %s; exit 1" % tool_delay)
    for tool in ["df", "lsblk", "dpkg-query", "uname", "sh", "cat", "awk", "sed", "sleep"]:
        real = shutil.which(tool)
        if real and tool in ("df", "lsblk", "dpkg-query"):
            stub(folder, tool, 'exec "%s" "$@"' % real)
        elif real:
            os.symlink(real, os.path.join(folder, tool))


def measure(binary, folder, arguments, runs):
    count = os.path.join(folder, "count")
    env = {"PATH": folder, "BENCH_COUNT": count, "AILAB_CONFIG": os.path.join(folder, "none.yaml"),
           "AILAB_LOG_DIR": folder, "AILAB_LOCK_DIR": folder, "AILAB_STATE_DIR": folder, "HOME": folder}
    open(env["AILAB_CONFIG"], "w").close()
    best, peak, processes = None, 0, 0
    for _ in range(runs):
        open(count, "w").close()
        code = ("import resource,subprocess,sys,time\nt=time.monotonic()\n"
                "subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)\n"
                "print(time.monotonic()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", code, binary] + arguments, env=env, capture_output=True, text=True, check=True)
        wall, rss = out.stdout.split()
        best = float(wall) if best is None else min(best, float(wall))
        peak = max(peak, int(rss))
        processes = sum(1 for _ in open(count))
    return best, peak, processes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/ailab"))
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run it as root: the kernel log and SMART probes need root")
    cases = [
        ("healthcheck, big host", dict(), ["healthcheck", "--format", "json"]),
        ("healthcheck, empty kernel log", dict(log_lines=0), ["healthcheck", "--format", "json"]),
        ("healthcheck, 64 MiB kernel log", dict(log_bytes=64 << 20), ["healthcheck", "--format", "json", "--timeout", "60"]),
        ("healthcheck, every GPU/Docker/VM/SMART tool 1 s", dict(tool_delay=1.0), ["healthcheck", "--format", "json"]),
        ("vm-audit, 320 VMs, virsh 50 ms", dict(vms=320, virsh_delay=0.05), ["vm-audit", "--format", "json"]),
        ("docker-cleanup preview, 1600 containers", dict(containers=1600), ["docker-cleanup", "--format", "json"]),
    ]
    print("%-42s %9s %12s %10s" % ("case", "wall s", "peak RSS KiB", "processes"))
    for name, shape, arguments in cases:
        folder = tempfile.mkdtemp(prefix="ailab-bench-")
        try:
            host(folder, **shape)
            wall, rss, processes = measure(os.path.abspath(options.binary), folder, arguments, options.runs)
            print("%-42s %9.3f %12d %10d" % (name, wall, rss, processes))
        finally:
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()
