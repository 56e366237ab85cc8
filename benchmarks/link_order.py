#!/usr/bin/env python3
"""Writes Sources/ailab/link-order.txt: the functions ailab runs in its common paths, which the
release link (lld's --symbol-ordering-file, see Package.swift) places side by side at the start
of .text. The kernel maps a program's code 64 KiB around each page it touches (fault-around),
so code spread over the whole binary costs resident memory far beyond what runs; packed
together, healthcheck's code costs a few hundred KiB instead of several MiB.

    swift build -c release --static-swift-stdlib --product ailab
    python3 benchmarks/link_order.py [--binary .build/release/ailab]

Needs valgrind (callgrind lists every function a run executes) and root, for the same reasons
as scale.py; it runs --version, --help, disk-watch, config, a refused option, healthcheck (text
and JSON), vm-audit and docker-cleanup on this host and on scale.py's stub GPU host. Run it
again when benchmarks/binary.py shows the peak creeping up after new code.
"""
import argparse, os, re, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale

OUTPUT = os.path.join(scale.ROOT, "Sources/ailab/link-order.txt")
HERE = [["--version"], ["--help"], ["disk-watch"], ["config"], ["disk-watch", "--threshold", "0"],
        ["healthcheck", "--timeout", "120"], ["healthcheck", "--format", "json", "--timeout", "120"],
        ["vm-audit"], ["docker-cleanup"]]
STUBBED = [["healthcheck", "--timeout", "120"], ["healthcheck", "--format", "json", "--timeout", "120"],
           ["vm-audit"], ["docker-cleanup"]]


def executed(binary, arguments, env, folder):
    out = os.path.join(folder, "callgrind.out")
    subprocess.run(["valgrind", "--tool=callgrind", "--demangle=no", "--callgrind-out-file=" + out, binary] + arguments,
                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900)
    names = set()
    with open(out) as f:
        for line in f:
            match = re.match(r"c?fn=\(\d+\) (.+)$", line)
            if match:
                names.add(match.group(1))
    os.remove(out)
    return names


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(scale.ROOT, ".build/release/ailab"))
    options = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="ailab-order-")
    try:
        # valgrind cannot read Swift's DWARF; the symbol table is all it needs.
        binary = os.path.join(folder, "ailab")
        subprocess.run(["strip", "--strip-debug", "-o", binary, options.binary], check=True)
        defined = set(line.split()[-1] for line in subprocess.run(["nm", binary], capture_output=True, text=True).stdout.splitlines()
                      if len(line.split()) == 3 and line.split()[1] in "tTwW")
        names = set()
        for arguments in HERE:
            names |= executed(binary, arguments, dict(os.environ, AILAB_STATE_DIR=folder), folder)
        host = os.path.join(folder, "host")
        os.makedirs(host)
        scale.host(host)
        env = {"PATH": host + ":/usr/bin:/bin", "BENCH_COUNT": host + "/count", "AILAB_CONFIG": host + "/none.yaml",
               "AILAB_LOG_DIR": host, "AILAB_LOCK_DIR": host, "AILAB_STATE_DIR": host, "HOME": host}
        open(env["AILAB_CONFIG"], "w").close()
        for arguments in STUBBED:
            names |= executed(binary, arguments, env, folder)
        ordered = sorted(names & defined)
        with open(OUTPUT, "w") as f:
            f.write("".join(name + "\n" for name in ordered))
        print("%d functions written to %s" % (len(ordered), os.path.relpath(OUTPUT, scale.ROOT)))
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
