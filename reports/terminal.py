"""The terminal summary of a conformance run: counts per verdict and the claims that need a reader."""
from __future__ import annotations

import os

from fixtures import leaks

VERDICTS = ("holds", "violated", "not_applicable", "error")


def summarise(tr, record: dict, record_path: str) -> None:
    """Write the IPC conformance section to pytest's terminal reporter `tr`."""
    tr.section("IPC conformance")
    host = record["host"]
    missing = host["capabilities"]["missing"]
    caps = ("all capabilities" if not missing else "no capabilities" if host["capabilities"]
            ["effective"].strip("0") == "" else "missing " + ", ".join(missing))
    tr.write_line(f"kernel {host['kernel_release']} {host['arch']}, uid {host['uid']}, {caps}")
    tr.write_line("  ".join(f"{v}: {record['summary'][v]}" for v in VERDICTS))
    for c in record["claims"]:
        if c["verdict"] in ("violated", "error"):
            tr.write_line(f"{c['verdict'].upper():9} {c['id']}: {c['claim']}", red=True)
            tr.write_line(f"          {c['reason']}")
            if c.get("erratum"):
                tr.write_line(f"          (source says: {c['erratum']['wording']})")
    leaks.summarise(tr, record["leaks"])
    tr.write_line(f"record: {os.path.relpath(record_path)}")
