#!/usr/bin/env python3
"""Suite-wide leak check: `snapshot FILE` before any test, `compare FILE` after all of them.

Compares what the whole test run may leave behind: mounts, named network namespaces, network
links (veth), cgroups named nixjail-*, loop devices, processes running as the jails' host ids
(0x70000000 and up), and temp entries named nixjail-* in $TMPDIR. Anything new is a leak; the
compare step prints it and fails. Run by CTest as a fixture around every test (tests/leaks).
"""
import glob
import json
import os
import subprocess
import sys

JAIL_ID_BASE = 0x70000000


def run(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def mounts():
    out = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            out.add(fields[4])
    return out


def jail_processes():
    out = set()
    for status in glob.glob("/proc/[0-9]*/status"):
        try:
            with open(status) as f:
                text = f.read()
        except OSError:
            continue
        uid = next((l.split()[1] for l in text.splitlines() if l.startswith("Uid:")), "0")
        if int(uid) >= JAIL_ID_BASE:
            name = next((l.split(None, 1)[1] for l in text.splitlines() if l.startswith("Name:")), "?")
            out.add(f"pid {status.split('/')[2]} ({name}, uid {uid})")
    return out


def state():
    tmp = os.environ.get("TMPDIR", "/tmp")
    return {
        "mounts": sorted(mounts()),
        "netns": sorted(run(["ip", "netns", "list"]).split("\n")),
        "links": sorted(l.split(":")[1].strip().split("@")[0] for l in run(["ip", "-o", "link"]).splitlines()),
        "cgroups": sorted(glob.glob("/sys/fs/cgroup/**/nixjail-*", recursive=True)),
        "loops": sorted(run(["losetup", "-a"]).splitlines()),
        "jail processes": sorted(jail_processes()),
        "temp": sorted(glob.glob(os.path.join(tmp, "nixjail-*"))),
    }


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("snapshot", "compare"):
        print(__doc__)
        return 2
    path = sys.argv[2]
    if sys.argv[1] == "snapshot":
        with open(path, "w") as f:
            json.dump(state(), f)
        print("leak baseline written to", path)
        return 0
    try:
        with open(path) as f:
            before = json.load(f)
    except OSError as e:
        print(f"no leak baseline at {path} ({e}); run the snapshot fixture first")
        return 1
    after = state()
    leaks = 0
    for kind, now in after.items():
        new = sorted(set(now) - set(before.get(kind, [])))
        for item in new:
            print(f"leaked {kind}: {item}")
        leaks += len(new)
    print(f"{leaks} leaked resources" if leaks else "nothing leaked")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
