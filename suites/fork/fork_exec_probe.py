"""What is left, in this process, of the descriptors and mappings a test names: run by exec.close
in the forked child before exec (look()) and, as a program, after it (`python -I -S
fork_exec_probe.py SPEC`: writes the same report as JSON to SPEC's report descriptor, then waits
for EOF on its release descriptor so that the test can look at the process meanwhile).
Only the standard library: the exec'd program has none of the suite's modules."""
import json
import os
import sys


def look(objects: dict) -> dict:
    """For each named object: a descriptor's /proc/self/fd link (None once closed), or whether
    /proc/self/maps has a mapping whose path contains `mapped` or whose file is `dev` (major:minor
    in hex, as maps shows it) and `inode`."""
    with open("/proc/self/maps") as f:
        maps = [line.split(maxsplit=5) for line in f]
    report = {}
    for name, what in objects.items():
        if "fd" in what:
            try:
                report[name] = os.readlink(f"/proc/self/fd/{what['fd']}")
            except OSError:
                report[name] = None
        elif "inode" in what:
            report[name] = any(len(m) > 4 and (m[3], m[4]) == (what["dev"], str(what["inode"]))
                               for m in maps)
        else:
            report[name] = any(len(m) > 5 and what["mapped"] in m[5] for m in maps)
    return report


def main(spec: dict) -> int:
    os.write(spec["report"], json.dumps(look(spec["objects"])).encode())
    os.close(spec["report"])
    os.read(spec["release"], 1)  # EOF when the test has seen enough
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
