"""Wall time of the whole conformance suite, serial and with -n auto, per facility, and the
ten slowest tests. A benchmark, not a test: it prints numbers and judges nothing.

    python tools/bench.py [--runs N] [extra pytest args]
"""
from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_suite(workers: str | None, out: str, extra: list[str]) -> tuple[float, int, str]:
    mode = workers or "serial"
    junit = os.path.join(out, f"junit-{mode}.xml")
    record = os.path.join(out, f"record-{mode}.json")
    # Path options in the --opt=PATH form: pytest would take an existing PATH for a test path.
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
           f"--record={record}", *extra]
    if workers:
        cmd += ["-n", workers]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start, proc.returncode, junit


def cases(junit: str) -> list[tuple[str, str, float]]:
    """(facility, test id, seconds) for each test case of a JUnit file."""
    out = []
    for case in ET.parse(junit).iter("testcase"):
        classname = case.get("classname", "")
        parts = classname.split(".")
        facility = parts[1] if len(parts) > 1 and parts[0] == "suites" else classname
        out.append((facility, f"{classname}::{case.get('name')}", float(case.get("time", 0))))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="repeat each mode and keep the best")
    args, extra = parser.parse_known_args(argv)
    out = tempfile.mkdtemp(prefix="ipcc-bench-")
    walls = {}
    for mode in (None, "auto"):
        best = None
        for _ in range(args.runs):
            wall, rc, junit = run_suite(mode, out, extra)
            if rc not in (0, 1):
                print(f"pytest exited {rc} in mode {mode or 'serial'}; see {out}", file=sys.stderr)
            best = wall if best is None else min(best, wall)
        walls[mode or "serial"] = (best, junit)
    print(f"{'mode':<10}{'wall s':>10}")
    for mode, (wall, _) in walls.items():
        print(f"{mode:<10}{wall:>10.2f}")
    serial = cases(walls["serial"][1])
    per_facility = collections.defaultdict(lambda: [0.0, 0])
    for facility, _, seconds in serial:
        per_facility[facility][0] += seconds
        per_facility[facility][1] += 1
    print(f"\n{'facility (serial)':<24}{'tests':>7}{'test s':>10}")
    for facility, (seconds, count) in sorted(per_facility.items(), key=lambda kv: -kv[1][0]):
        print(f"{facility:<24}{count:>7}{seconds:>10.2f}")
    print("\nten slowest tests (serial):")
    for _, name, seconds in sorted(serial, key=lambda c: -c[2])[:10]:
        print(f"{seconds:8.3f}  {name}")
    print(f"\nrecords and JUnit files: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
